package io.tpkernels.layers.testing;

import io.tpkernels.layers.model.DemoModelNames;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.weights.WeightSource;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Fine-tuning the demo model's LoRA adapter in plain double arithmetic, written from docs/contract.md sections 11 to
 * 13 and nothing else: forward, cross-entropy, backward by the chain rule, global-norm clipping and AdamW, all on
 * one unsharded model. The independent reference that {@code tpk finetune} and the sharded trainers are checked
 * against.
 */
public final class DemoTrainingReference {
    private final int vocab;
    private final int hidden;
    private final int inter;
    private final int layers;
    private final double[][] embedding;
    private final double[][] head;
    private final Map<String, double[][]> base = new LinkedHashMap<>();
    private final Map<String, Factor> factors = new LinkedHashMap<>();
    private final Optimizer optimizer;
    private long steps;
    private double lastNorm;

    /** AdamW's settings and the clipping norm (0: none). */
    public record Optimizer(double lr, double beta1, double beta2, double eps, double weightDecay, double clipNorm) {
    }

    /** One module's adapter: {@code A [R][in]}, {@code B [out][R]}, the scale, and AdamW's moments of each. */
    private static final class Factor {
        final double[][] a;
        final double[][] b;
        final double scale;
        final double[][] ma;
        final double[][] va;
        final double[][] mb;
        final double[][] vb;
        double[][] ga;
        double[][] gb;

        Factor(double[][] a, double[][] b, double scale) {
            this.a = a;
            this.b = b;
            this.scale = scale;
            ma = new double[a.length][a[0].length];
            va = new double[a.length][a[0].length];
            mb = new double[b.length][b[0].length];
            vb = new double[b.length][b[0].length];
        }
    }

    /**
     * The model in {@code w} with the adapter {@code lora} (module name to {@code A}, {@code B} as F32 row-major and
     * the scale), trained with {@code optimizer}.
     */
    public DemoTrainingReference(WeightSource w, int vocab, int hidden, int inter, int layers, boolean tied,
                                 Map<String, DemoModelReference.Lora> lora, Optimizer optimizer) {
        this.vocab = vocab;
        this.hidden = hidden;
        this.inter = inter;
        this.layers = layers;
        this.optimizer = optimizer;
        embedding = matrix(w.view(DemoModelNames.EMBED).toFloatArray(), vocab, hidden);
        head = tied ? embedding : matrix(w.view(DemoModelNames.LM_HEAD).toFloatArray(), vocab, hidden);
        for (int l = 0; l < layers; l++) {
            for (Projection p : Projection.values()) {
                int out = p == Projection.DOWN ? hidden : inter;
                int in = p == Projection.DOWN ? inter : hidden;
                String module = DemoModelNames.module(l, p);
                base.put(module, matrix(w.view(DemoModelNames.weight(l, p)).toFloatArray(), out, in));
                DemoModelReference.Lora f = lora.get(module);
                if (f != null) {
                    factors.put(module, new Factor(matrix(f.a(), f.rank(), in), matrix(f.b(), out, f.rank()),
                            f.scale()));
                }
            }
        }
    }

    /** One step on {@code inputs} and {@code targets} (all rows as one batch); returns the loss before the update. */
    public double step(long[] inputs, long[] targets) {
        int t = inputs.length;
        double[][][] hs = new double[layers + 1][][];
        double[][][] gates = new double[layers][][];
        double[][][] ups = new double[layers][][];
        double[][][] acts = new double[layers][][];
        double[][] h = new double[t][];
        for (int i = 0; i < t; i++) {
            h[i] = embedding[(int) inputs[i]].clone();
        }
        hs[0] = h;
        for (int l = 0; l < layers; l++) {
            gates[l] = linear(hs[l], l, Projection.GATE);
            ups[l] = linear(hs[l], l, Projection.UP);
            acts[l] = new double[t][inter];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < inter; j++) {
                    double g = gates[l][i][j];
                    acts[l][i][j] = g / (1 + Math.exp(-g)) * ups[l][i][j];
                }
            }
            double[][] d = linear(acts[l], l, Projection.DOWN);
            hs[l + 1] = new double[t][hidden];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < hidden; j++) {
                    hs[l + 1][i][j] = hs[l][i][j] + d[i][j];
                }
            }
        }
        // Cross-entropy and its gradient dz = (softmax - onehot) / N.
        double[][] dz = new double[t][vocab];
        double loss = 0;
        int counted = 0;
        for (int i = 0; i < t; i++) {
            if (targets[i] != -100) {
                counted++;
            }
        }
        for (int i = 0; i < t; i++) {
            if (targets[i] == -100) {
                continue;
            }
            double[] z = new double[vocab];
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) {
                z[v] = dot(hs[layers][i], head[v]);
                max = Math.max(max, z[v]);
            }
            double sum = 0;
            for (int v = 0; v < vocab; v++) {
                sum += Math.exp(z[v] - max);
            }
            loss += Math.log(sum) + max - z[(int) targets[i]];
            for (int v = 0; v < vocab; v++) {
                dz[i][v] = (Math.exp(z[v] - max) / sum - (v == targets[i] ? 1 : 0)) / counted;
            }
        }
        loss /= counted;
        double[][] dh = new double[t][hidden];
        for (int i = 0; i < t; i++) {
            for (int v = 0; v < vocab; v++) {
                for (int k = 0; k < hidden; k++) {
                    dh[i][k] += dz[i][v] * head[v][k];
                }
            }
        }
        for (int l = layers - 1; l >= 0; l--) {
            double[][] dAct = linearBackward(acts[l], dh, l, Projection.DOWN);
            double[][] dg = new double[t][inter];
            double[][] du = new double[t][inter];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < inter; j++) {
                    double g = gates[l][i][j];
                    double sigma = 1 / (1 + Math.exp(-g));
                    du[i][j] = dAct[i][j] * g * sigma;
                    dg[i][j] = dAct[i][j] * ups[l][i][j] * sigma * (1 + g * (1 - sigma));
                }
            }
            double[][] dxg = linearBackward(hs[l], dg, l, Projection.GATE);
            double[][] dxu = linearBackward(hs[l], du, l, Projection.UP);
            for (int i = 0; i < t; i++) {
                for (int k = 0; k < hidden; k++) {
                    dh[i][k] += dxg[i][k] + dxu[i][k];
                }
            }
        }
        update();
        return loss;
    }

    /** The global gradient norm of the last step, before clipping. */
    public double lastNorm() {
        return lastNorm;
    }

    /** Module {@code module}'s {@code A} now, row-major. */
    public double[] a(String module) {
        return flat(factors.get(module).a);
    }

    /** Module {@code module}'s {@code B} now, row-major. */
    public double[] b(String module) {
        return flat(factors.get(module).b);
    }

    /** {@code y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ}. */
    private double[][] linear(double[][] x, int layer, Projection p) {
        String module = DemoModelNames.module(layer, p);
        double[][] w = base.get(module);
        Factor f = factors.get(module);
        double[][] y = new double[x.length][w.length];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < w.length; j++) {
                y[i][j] = dot(x[i], w[j]);
            }
            if (f != null) {
                double[] xa = new double[f.a.length];
                for (int q = 0; q < xa.length; q++) {
                    xa[q] = dot(x[i], f.a[q]);
                }
                for (int j = 0; j < w.length; j++) {
                    y[i][j] += f.scale * dot(xa, f.b[j]);
                }
            }
        }
        return y;
    }

    /** {@code dx = dy·W + s·(dy·B)·A}; sets the module's {@code dA = s·(dy·B)ᵀ·x}, {@code dB = s·dyᵀ·(x·Aᵀ)}. */
    private double[][] linearBackward(double[][] x, double[][] dy, int layer, Projection p) {
        String module = DemoModelNames.module(layer, p);
        double[][] w = base.get(module);
        Factor f = factors.get(module);
        int t = x.length;
        int in = x[0].length;
        double[][] dx = new double[t][in];
        for (int i = 0; i < t; i++) {
            for (int n = 0; n < w.length; n++) {
                for (int k = 0; k < in; k++) {
                    dx[i][k] += dy[i][n] * w[n][k];
                }
            }
        }
        if (f == null) {
            return dx;
        }
        int r = f.a.length;
        f.ga = new double[r][in];
        f.gb = new double[w.length][r];
        for (int i = 0; i < t; i++) {
            double[] g = new double[r];
            double[] xa = new double[r];
            for (int q = 0; q < r; q++) {
                for (int n = 0; n < w.length; n++) {
                    g[q] += dy[i][n] * f.b[n][q];
                }
                xa[q] = dot(x[i], f.a[q]);
            }
            for (int q = 0; q < r; q++) {
                for (int k = 0; k < in; k++) {
                    dx[i][k] += f.scale * g[q] * f.a[q][k];
                    f.ga[q][k] += f.scale * g[q] * x[i][k];
                }
                for (int n = 0; n < w.length; n++) {
                    f.gb[n][q] += f.scale * dy[i][n] * xa[q];
                }
            }
        }
        return dx;
    }

    private void update() {
        double squares = 0;
        for (Factor f : factors.values()) {
            squares += squares(f.ga) + squares(f.gb);
        }
        lastNorm = Math.sqrt(squares);
        double factor = optimizer.clipNorm() > 0 ? Math.min(1, optimizer.clipNorm() / (lastNorm + 1e-6)) : 1;
        steps++;
        for (Factor f : factors.values()) {
            adamw(f.a, f.ga, f.ma, f.va, factor);
            adamw(f.b, f.gb, f.mb, f.vb, factor);
        }
    }

    private void adamw(double[][] p, double[][] g, double[][] m, double[][] v, double factor) {
        Optimizer o = optimizer;
        double c1 = 1 - Math.pow(o.beta1(), steps);
        double c2 = 1 - Math.pow(o.beta2(), steps);
        for (int i = 0; i < p.length; i++) {
            for (int j = 0; j < p[i].length; j++) {
                double grad = g[i][j] * factor;
                p[i][j] *= 1 - o.lr() * o.weightDecay();
                m[i][j] = o.beta1() * m[i][j] + (1 - o.beta1()) * grad;
                v[i][j] = o.beta2() * v[i][j] + (1 - o.beta2()) * grad * grad;
                p[i][j] -= o.lr() * (m[i][j] / c1) / (Math.sqrt(v[i][j] / c2) + o.eps());
            }
        }
    }

    private static double squares(double[][] g) {
        double s = 0;
        for (double[] row : g) {
            for (double x : row) {
                s += x * x;
            }
        }
        return s;
    }

    private static double dot(double[] x, double[] y) {
        double s = 0;
        for (int k = 0; k < x.length; k++) {
            s += x[k] * y[k];
        }
        return s;
    }

    private static double[][] matrix(float[] v, int rows, int cols) {
        double[][] m = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                m[i][j] = v[i * cols + j];
            }
        }
        return m;
    }

    private static double[] flat(double[][] m) {
        double[] out = new double[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
        }
        return out;
    }
}
