package io.tpkernels.layers.testing;

import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.model.DemoModelNames;
import io.tpkernels.layers.weights.WeightSource;

/**
 * The demo model of docs/contract.md section 13 in plain double arithmetic, straight from the weights: the
 * independent reference the sharded and pipelined runs are checked against.
 */
public final class DemoModelReference {
    private DemoModelReference() {
    }

    /** A LoRA term of one projection: {@code s·(x·Aᵀ)·Bᵀ} with A {@code [R, in]} and B {@code [out, R]}. */
    public record Lora(float[] a, float[] b, int rank, double scale) {
    }

    /** Supplies the LoRA term of a projection, or {@code null}. */
    @FunctionalInterface
    public interface LoraLookup {
        Lora of(int layer, Projection p);
    }

    /** {@code [T][V]} logits for {@code ids}. */
    public static double[][] logits(WeightSource w, long[] ids, int vocab, int hidden, int inter, int layers,
                                    boolean tied, LoraLookup lora) {
        float[] emb = w.view(DemoModelNames.EMBED).toFloatArray();
        int t = ids.length;
        double[][] h = new double[t][hidden];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < hidden; j++) {
                h[i][j] = emb[(int) ids[i] * hidden + j];
            }
        }
        for (int l = 0; l < layers; l++) {
            double[][] g = linear(h, w.view(DemoModelNames.weight(l, Projection.GATE)).toFloatArray(), inter, hidden,
                    lora.of(l, Projection.GATE));
            double[][] u = linear(h, w.view(DemoModelNames.weight(l, Projection.UP)).toFloatArray(), inter, hidden,
                    lora.of(l, Projection.UP));
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < inter; j++) {
                    g[i][j] = g[i][j] / (1 + Math.exp(-g[i][j])) * u[i][j];
                }
            }
            double[][] d = linear(g, w.view(DemoModelNames.weight(l, Projection.DOWN)).toFloatArray(), hidden, inter,
                    lora.of(l, Projection.DOWN));
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < hidden; j++) {
                    h[i][j] += d[i][j];
                }
            }
        }
        float[] head = w.view(tied ? DemoModelNames.EMBED : DemoModelNames.LM_HEAD).toFloatArray();
        return linear(h, head, vocab, hidden, null);
    }

    private static double[][] linear(double[][] x, float[] w, int out, int in, Lora lora) {
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++) {
            double[] xa = null;
            if (lora != null) {
                xa = new double[lora.rank()];
                for (int q = 0; q < lora.rank(); q++) {
                    for (int k = 0; k < in; k++) {
                        xa[q] += x[i][k] * lora.a()[q * in + k];
                    }
                }
            }
            for (int j = 0; j < out; j++) {
                double s = 0;
                for (int k = 0; k < in; k++) {
                    s += x[i][k] * w[j * in + k];
                }
                if (lora != null) {
                    for (int q = 0; q < lora.rank(); q++) {
                        s += lora.scale() * xa[q] * lora.b()[j * lora.rank() + q];
                    }
                }
                y[i][j] = s;
            }
        }
        return y;
    }
}
