package io.tpkernels.layers.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tpkernels.layers.Precision;
import io.tpkernels.layers.checkpoint.SafetensorsCheckpoint;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.weights.WeightSource;
import io.tpkernels.shard.VocabShard;
import io.tpkernels.train.AdamWConfig;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An adapter trained at tp 4 × pp 2 and exported, then loaded at tp 3, gives the logits of the same adapter trained
 * at tp 1: training, export and loading each keep the layout out of the result.
 */
class FinetuneExportTest {
    @TempDir
    Path dir;

    @Test
    void trainedAtTp4Pp2AndLoadedAtTp3ItGivesTheTp1AdaptersLogits() {
        Path one = train(1, 1, dir.resolve("tp1"));
        Path eight = train(4, 2, dir.resolve("tp4-pp2"));
        long[] ids = TrainingRun.data(9).inputs(0);
        float[] reference = PeftFixtures.forward(one, ids, 1, 1, -1, Precision.F32);
        float[] reloaded = PeftFixtures.forward(eight, ids, 3, 1, -1, Precision.F32);
        int vocab = (int) TrainingRun.config().vocabSize();
        PeftFixtures.assertLogits(reference, reloaded, vocab, 1e-5, "trained at tp 4 x pp 2, run at tp 3");
        float[] untrained = PeftFixtures.forward(dir.resolve("untrained"), ids, 1, 1, -1, Precision.F32);
        double moved = 0;
        for (int i = 0; i < untrained.length; i++) {
            moved = Math.max(moved, Math.abs(untrained[i] - reference[i]));
        }
        assertTrue(moved > 1e-3, "training changed the logits (by " + moved + ")");
    }

    private Path train(int tp, int pp, Path out) {
        ModelConfig c = TrainingRun.config();
        FreshAdapter adapter = TrainingRun.adapter();
        try (WeightSource base = SafetensorsCheckpoint.open(PeftFixtures.root().resolve("base"))) {
            if (tp == 1) { // the adapter before training, for the check that training moved something
                DemoFinetune.run(c, base, adapter, adapter.modules(), TrainingRun.data(11), 1,
                        options(1, 1, 0), (k, loss, norm) -> { }, dir.resolve("untrained"));
            }
            DemoFinetune.Result r = DemoFinetune.run(c, base, adapter, adapter.modules(), TrainingRun.data(11), 5,
                    options(tp, pp, 0.05), (k, loss, norm) -> { }, out);
            assertEquals(5, r.losses().length);
        }
        return out;
    }

    private static DemoFinetune.Options options(int tp, int pp, double lr) {
        var forward = new DemoForward.Options(tp, pp, stage -> -1, Precision.F32, VocabShard.DEFAULT_MULTIPLE, false,
                Duration.ofMinutes(1));
        var o = TrainingRun.optimizer();
        return new DemoFinetune.Options(forward, new AdamWConfig(lr, o.beta1(), o.beta2(), o.eps(), o.weightDecay()),
                1.0, pp);
    }
}
