package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.collective.ReduceOp;
import io.tpkernels.layers.LoraInit;
import io.tpkernels.layers.LoraSource;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.model.TrainingRun.Faults;
import io.tpkernels.layers.model.TrainingRun.Layout;
import io.tpkernels.layers.model.TrainingRun.Outcome;
import io.tpkernels.layers.weights.InMemoryWeights;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.ExecutionContext;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.testing.ForwardingGroup;
import io.tpkernels.testing.RecordingGroup;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/**
 * The bugs the field met when fine-tuning LoRA under tensor parallelism, each put into a run on purpose: the checks
 * of {@link FinetuneLayoutsTest} (losses as tp 1's, replicated factors the same bits on every rank) must catch every
 * one. A check that passes a known bug is no check.
 */
class KnownBugsTest {
    static final int STEPS = 4;
    static final Layout TP2 = Layout.cpu(2, 1, 1);
    static final int TOKENS = TrainingRun.ROWS * TrainingRun.SEQ_LEN;

    /** The run at tp 1, which the bugged runs must fail to match. */
    private static Outcome reference() {
        return TrainingRun.run(TrainingRun.adapter(), STEPS, Layout.cpu(1, 1, 1), FinetuneLayoutsTest.CLIP, Faults.NONE);
    }

    /** Either check fails for {@code bugged}. */
    private static void caught(Outcome bugged, String bug) {
        Outcome reference = reference();
        assertThrows(AssertionFailedError.class, () -> {
            FinetuneLayoutsTest.assertReplicatedAgree(bugged, bug);
            FinetuneLayoutsTest.assertLossesMatch(reference, bugged, 1e-5, bug);
        }, bug + " went unnoticed");
    }

    @Test
    void theReplicatedFactorDrawnOnEachRankIsCaught() {
        // Each rank draws the column-parallel layers' replicated A from its own generator (seed + rank), instead of
        // rank 0 drawing and broadcasting.
        Faults perRankDraws = new Faults() {
            @Override
            public LoraAdapters adapters(LoraAdapters correct, int tpRank, int stage) {
                return drawnHere(correct, false, tpRank, 1.0);
            }
        };
        caught(TrainingRun.run(TrainingRun.adapter(), STEPS, TP2, FinetuneLayoutsTest.CLIP, perRankDraws),
                "A drawn on each rank");
    }

    @Test
    void theKaimingFanTakenFromTheShardIsCaught() {
        // The row-parallel layers' A drawn with the bound of the shard's fan-in K/tp, sqrt(tp) times too wide.
        Faults shardFan = new Faults() {
            @Override
            public LoraAdapters adapters(LoraAdapters correct, int tpRank, int stage) {
                return drawnHere(correct, true, 0, Math.sqrt(TP2.tp()));
            }
        };
        caught(TrainingRun.run(TrainingRun.adapter(), STEPS, TP2, FinetuneLayoutsTest.CLIP, shardFan),
                "Kaiming fan from the shard");
    }

    @Test
    void theReplicatedGradientLeftUnreducedIsCaught() {
        // The column-parallel backward's packed all-reduce sums dx but leaves dA, the replicated A's gradient, local.
        int r = 4;
        Faults unreduced = new Faults() {
            @Override
            public ProcessGroup tensorParallel(ProcessGroup group) {
                return new ForwardingGroup(group) {
                    @Override
                    public void allReduce(ExecutionContext ctx, Tensor tensor, ReduceOp op) {
                        if (tensor.rank() == 2 && tensor.dim(0) == TOKENS + r) {
                            inner.allReduce(ctx, tensor.rows(0, TOKENS), op);
                        } else {
                            inner.allReduce(ctx, tensor, op);
                        }
                    }
                };
            }
        };
        caught(TrainingRun.run(TrainingRun.adapter(), STEPS, TP2, FinetuneLayoutsTest.CLIP, unreduced),
                "dA not reduced over tp");
    }

    @Test
    void aStepIssuesEachLayersOneCollectiveAndNoMore() {
        // Forward: the embedding's all-reduce, one per layer (down), the loss's MAX and packed SUM; backward: the head's
        // dx, then per layer down's dB, gate's and up's packed (dx, dA); the clipping norm's sharded square-sum.
        List<List<String>> calls = Collections.synchronizedList(new ArrayList<>());
        Faults recorded = new Faults() {
            @Override
            public ProcessGroup tensorParallel(ProcessGroup group) {
                RecordingGroup recording = new RecordingGroup(group);
                calls.add(recording.calls);
                return recording;
            }
        };
        TrainingRun.run(TrainingRun.adapter(), 1, TP2, FinetuneLayoutsTest.CLIP, recorded);
        int layers = TrainingRun.config().numHiddenLayers();
        List<String> expected = new ArrayList<>();
        expected.addAll(Collections.nCopies(1 + layers, "allReduce SUM"));
        expected.addAll(List.of("allReduce MAX", "allReduce SUM", "allReduce SUM"));
        expected.addAll(Collections.nCopies(3 * layers, "allReduce SUM"));
        expected.add("allReduce SUM");
        assertEquals(2, calls.size());
        for (List<String> rank : calls) {
            assertEquals(expected, rank.subList(rank.size() - expected.size(), rank.size()),
                    "the collectives of one step (after loading's broadcasts and scatters)");
            assertEquals(expected.size(), rank.stream().filter(c -> c.startsWith("allReduce")).count(),
                    "all-reduces in all: " + rank);
        }
    }

    /**
     * {@code correct}'s adapter with A drawn on this rank, as the bugs draw it: the full {@code [R, K]} from the module's
     * seed plus {@code seedOffset}, times {@code widen}, for the column-parallel layers or (with {@code rowLayers})
     * the row-parallel ones; B zero.
     */
    private static LoraAdapters drawnHere(LoraAdapters correct, boolean rowLayers, int seedOffset, double widen) {
        return (layer, p) -> correct.forProjection(layer, p).map(source -> {
            LoraSource.Initialized init = (LoraSource.Initialized) source;
            boolean row = p == Projection.DOWN;
            if (row != rowLayers) {
                return source;
            }
            long k = row ? TrainingRun.config().intermediateSize() : TrainingRun.config().hiddenSize();
            long n = row ? TrainingRun.config().hiddenSize() : TrainingRun.config().intermediateSize();
            Tensor a = LoraInit.kaimingUniform(init.seed() + seedOffset, init.rank(), k);
            float[] values = a.toFloatArray();
            a.close();
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (values[i] * widen);
            }
            var weights = new InMemoryWeights("bugged draws", Map.of(
                    "A", Tensor.ofFloats(DType.F32, values, init.rank(), k),
                    "B", Tensor.ofFloats(DType.F32, new float[(int) (n * init.rank())], n,
                            init.rank())));
            return (LoraSource) new LoraSource.FromAdapter(weights, "A", "B", init.scale(), init.rank());
        });
    }
}
