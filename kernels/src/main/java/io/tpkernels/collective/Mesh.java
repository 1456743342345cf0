package io.tpkernels.collective;

/**
 * The two groups a rank belongs to under tensor and pipeline parallelism: the {@code tp} ranks of its pipeline
 * stage (collectives inside a layer), and the {@code pp} ranks of its tensor-parallel rank across the stages
 * (activations handed from stage to stage with send/recv).
 *
 * @param tensorParallel the ranks of this stage; {@code tensorParallel.rank()} is this rank's tp rank
 * @param pipeline       the ranks of the stages; {@code pipeline.rank()} is this rank's stage
 */
public record Mesh(ProcessGroup tensorParallel, ProcessGroup pipeline) {

    /**
     * This rank's pipeline stage.
     *
     * @return the stage, in {@code [0, pp)}
     */
    public int stage() {
        return pipeline.rank();
    }

    /**
     * This rank's tensor-parallel rank.
     *
     * @return the tp rank, in {@code [0, tp)}
     */
    public int tpRank() {
        return tensorParallel.rank();
    }
}
