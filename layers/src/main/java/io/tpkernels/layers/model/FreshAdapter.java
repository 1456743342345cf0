package io.tpkernels.layers.model;

import io.tpkernels.layers.LoraSource;
import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.ops.LoraLinear;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A new LoRA adapter for the demo model, as PEFT makes one: rank {@code r}, {@code lora_alpha}, on the projections
 * named in {@code target_modules} of every layer; each module's {@code A} drawn Kaiming-uniform from its own seed and
 * {@code B} zero (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#8-lora-under-tensor-parallelism">section 8</a>,
 * and <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#p3-fine-tuning-steps">P3</a>). Module
 * {@code i} of the model's order (layer by layer, gate, up, down) draws from {@link #moduleSeed}{@code (seed, i)}, so
 * one seed gives one adapter whatever the tp × pp layout.
 */
public final class FreshAdapter implements LoraAdapters {
    private final int rank;
    private final double alpha;
    private final Set<Projection> targets;
    private final long seed;
    private final int layers;

    private FreshAdapter(int rank, double alpha, Set<Projection> targets, long seed, int layers) {
        this.rank = rank;
        this.alpha = alpha;
        this.targets = targets;
        this.seed = seed;
        this.layers = layers;
    }

    /**
     * An adapter of {@code rank} and {@code alpha} on {@code targetModules} (PEFT's names: {@code gate_proj},
     * {@code up_proj}, {@code down_proj}) of a model of {@code layers} layers.
     *
     * @param rank {@code r}, in {@code [1, 256]}
     * @param alpha {@code lora_alpha}, finite and positive; the scale is {@code alpha / r}
     * @param targetModules the projections' short names, at least one
     * @param seed the adapter's seed
     * @param layers the model's decoder layers
     * @return the adapter
     * @throws IllegalArgumentException naming a target the demo model lacks, a rank outside
     *                                  {@code [1, LoraLinear.MAX_RANK]}, or an alpha that is not finite and positive
     */
    public static FreshAdapter of(int rank, double alpha, List<String> targetModules, long seed, int layers) {
        if (rank < 1 || rank > LoraLinear.MAX_RANK) {
            throw new IllegalArgumentException("LoRA rank " + rank + " is outside [1, " + LoraLinear.MAX_RANK + "]");
        }
        if (!(alpha > 0) || Double.isInfinite(alpha)) {
            throw new IllegalArgumentException("lora_alpha must be finite and > 0, got " + alpha);
        }
        if (targetModules.isEmpty()) {
            throw new IllegalArgumentException("no target modules: name at least one of gate_proj, up_proj, down_proj");
        }
        Set<Projection> targets = EnumSet.noneOf(Projection.class);
        for (String name : targetModules) {
            targets.add(projectionNamed(name));
        }
        return new FreshAdapter(rank, alpha, targets, seed, layers);
    }

    private static Projection projectionNamed(String name) {
        for (Projection p : Projection.values()) {
            if (p.module().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("target module '" + name + "' is not a module of the demo model (it has"
                + " gate_proj, up_proj and down_proj)");
    }

    /**
     * The seed of the {@code index}-th module of the model (a SplitMix64 step from {@code seed}).
     *
     * @param seed the adapter's seed
     * @param index the module's position in the model's order, from 0
     * @return the module's seed
     */
    public static long moduleSeed(long seed, int index) {
        long z = seed + (index + 1L) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public Optional<LoraSource> forProjection(int layer, Projection projection) {
        if (!targets.contains(projection) || layer < 0 || layer >= layers) {
            return Optional.empty();
        }
        int index = layer * Projection.values().length + projection.ordinal();
        return Optional.of(new LoraSource.Initialized(rank, LoraLinear.scale(alpha, rank, false),
                moduleSeed(seed, index)));
    }

    /**
     * The modules that carry LoRA, with rank and alpha, in the model's order: what an export writes.
     *
     * @return the modules, in the model's order
     */
    public List<ModuleLora> modules() {
        List<ModuleLora> out = new ArrayList<>();
        for (int layer = 0; layer < layers; layer++) {
            for (Projection p : Projection.values()) {
                if (targets.contains(p)) {
                    out.add(new ModuleLora(DemoModelNames.module(layer, p), rank, alpha, false, false));
                }
            }
        }
        return out;
    }
}
