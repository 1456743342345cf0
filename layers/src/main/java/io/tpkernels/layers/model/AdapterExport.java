package io.tpkernels.layers.model;

import io.tpkernels.collective.Mesh;
import io.tpkernels.collective.ProcessGroup;
import io.tpkernels.layers.LoraColumnParallelLinear;
import io.tpkernels.layers.LoraRowParallelLinear;
import io.tpkernels.layers.RankContext;
import io.tpkernels.layers.checkpoint.AdapterFolder;
import io.tpkernels.layers.config.AdapterConfig.ModuleLora;
import io.tpkernels.layers.config.AdapterConfigWriter;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import io.tpkernels.shard.PipelinePartition;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Exports the demo model's LoRA adapter as PEFT writes one (the contract,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#9-peft-adapters">section 9</a>,
 * <a href="https://github.com/tpkernels/tpkernels/blob/main/docs/contract.md#export">Export</a>), from any tp × pp:
 * {@code adapter_config.json} with the keys PEFT 0.21 writes ({@link AdapterConfigWriter}) and
 * {@code adapter_model.safetensors} with PEFT's tensor names, full F32 tensors, written all or nothing
 * ({@link AdapterFolder}). The folder loads with {@code tpk forward --lora} at any other tp × pp.
 *
 * <p>Every rank of the mesh calls {@link #export} with the same arguments. The ranks of each stage gather their
 * layers' shards with one all-gather per layer ({@link LoraGather}); then the first tp rank of each later stage sends
 * its stage's full tensors to the first rank of stage 0 over the pipeline group, and that rank writes. Send and recv
 * are what a pipeline group offers across stages whether its ranks are threads of one process or processes on
 * several machines (a map shared in memory would only work for the first), and the receiver knows every tensor's shape
 * from the model's config and the adapter's ranks, so nothing but the tensors travels.
 */
public final class AdapterExport {
    private AdapterExport() {
    }

    /**
     * Writes the adapter of {@code stage}'s LoRA layers, and of the other stages', to the new folder {@code folder}.
     *
     * @param modules every module of the model that carries LoRA, with its rank and alpha (a loaded adapter's
     *                {@link PeftAdapter#modules()}); each layer's rank and scale must be the module's
     * @param stage this rank's stage of the model, whose LoRA layers are exported
     * @param folder the folder to create; it must not exist
     * @return whether this rank wrote the folder (stage 0's tp rank 0)
     * @throws IllegalArgumentException on every rank, before any collective, when {@code modules} cannot be written as
     *                                  PEFT's configuration or does not match the layers
     * @throws io.tpkernels.layers.checkpoint.CheckpointException on the writing rank when the folder exists or cannot
     *                                  be written; nothing is then left behind
     * @throws io.tpkernels.collective.CollectiveException when a group fails or the ranks' calls disagree
     */
    public static boolean export(PipelineStage stage, List<ModuleLora> modules, Path folder) {
        ModelConfig c = stage.spec().config();
        String config = AdapterConfigWriter.json(modules, linearModules(c.numHiddenLayers()));
        Map<String, ModuleLora> byName = new LinkedHashMap<>();
        modules.forEach(m -> byName.put(m.module(), m));
        Mesh mesh = stage.mesh();
        RankContext ctx = stage.ctx();
        PipelinePartition partition = stage.spec().partition();
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try {
            int first = partition.start(mesh.stage());
            for (boolean gathering : new boolean[] {false, true}) { // every layer checked before the first collective
                for (int j = 0; j < stage.blocks().size(); j++) {
                    for (Projection p : Projection.values()) {
                        ModuleLora m = byName.get(DemoModelNames.module(first + j, p));
                        Object layer = stage.blocks().get(j).projection(p);
                        if (gathering) {
                            gather(layer, first + j, p, ctx, tensors);
                        } else {
                            check(layer, m, first + j, p);
                        }
                    }
                }
            }
            if (mesh.tpRank() != 0) {
                return false;
            }
            ProcessGroup pipeline = mesh.pipeline();
            if (mesh.stage() != 0) {
                for (Tensor t : tensors.values()) {
                    send(pipeline, ctx, t);
                }
                return false;
            }
            for (int from = 1; from < partition.stages(); from++) {
                for (int layer = partition.start(from); layer < partition.end(from); layer++) {
                    for (Projection p : Projection.values()) {
                        ModuleLora m = byName.get(DemoModelNames.module(layer, p));
                        if (m != null) {
                            long k = p == Projection.DOWN ? c.intermediateSize() : c.hiddenSize();
                            long n = p == Projection.DOWN ? c.hiddenSize() : c.intermediateSize();
                            tensors.put(DemoModelNames.loraA(layer, p), receive(pipeline, ctx, from, m.rank(), k));
                            tensors.put(DemoModelNames.loraB(layer, p), receive(pipeline, ctx, from, n, m.rank()));
                        }
                    }
                }
            }
            AdapterFolder.write(folder, config, tensors);
            return true;
        } finally {
            tensors.values().forEach(Tensor::close);
        }
    }

    /** The demo model's linear modules, in its order: where an adapter may put LoRA. */
    static List<String> linearModules(int layers) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            for (Projection p : Projection.values()) {
                out.add(DemoModelNames.module(i, p));
            }
        }
        return out;
    }

    /** Adds the full A and B of {@code layer}'s projection {@code p} when it has LoRA. */
    private static void gather(Object projection, int layer, Projection p, RankContext ctx, Map<String, Tensor> into) {
        LoraGather.Full full = switch (projection) {
            case LoraColumnParallelLinear col -> LoraGather.column(col, ctx);
            case LoraRowParallelLinear row -> LoraGather.row(row, ctx);
            default -> null;
        };
        if (full != null) {
            into.put(DemoModelNames.loraA(layer, p), full.a());
            into.put(DemoModelNames.loraB(layer, p), full.b());
        }
    }

    /** The projection has LoRA exactly when {@code m} describes it, with {@code m}'s rank and scale, and no DoRA. */
    private static void check(Object projection, ModuleLora m, int layer, Projection p) {
        String module = DemoModelNames.module(layer, p);
        switch (projection) {
            case LoraColumnParallelLinear col -> check(m, module, col.loraRank(), col.loraScale(), col.isDora());
            case LoraRowParallelLinear row -> check(m, module, row.loraRank(), row.loraScale(), row.isDora());
            default -> {
                if (m != null) {
                    throw new IllegalArgumentException(module + " is described with LoRA (r " + m.rank()
                            + ") but its layer has none");
                }
            }
        }
    }

    private static void check(ModuleLora m, String module, int rank, float scale, boolean dora) {
        if (m == null) {
            throw new IllegalArgumentException(module + " has LoRA (r " + rank + ") that the modules to export lack");
        }
        if (dora) {
            throw new IllegalArgumentException(module + " is DoRA; exporting DoRA's magnitude vectors is not built");
        }
        if (m.rank() != rank || m.scale() != scale) {
            throw new IllegalArgumentException(module + " holds r " + rank + " and scale " + scale + " but is described "
                    + "with r " + m.rank() + ", alpha " + m.alpha() + (m.rsLora() ? " (rsLoRA)" : "") + ": scale "
                    + m.scale());
        }
    }

    /** Hands one host tensor to stage 0, from this rank's device (a pipeline group's tensors live there). */
    private static void send(ProcessGroup pipeline, RankContext ctx, Tensor host) {
        if (!ctx.device().isCuda()) {
            pipeline.send(ctx.exec(), host, 0);
            return;
        }
        try (Tensor onDevice = host.copyTo(ctx.device())) {
            pipeline.send(ctx.exec(), onDevice, 0);
        }
    }

    /** The next tensor stage {@code from} sends, F32 of {@code shape}, on the host. */
    private static Tensor receive(ProcessGroup pipeline, RankContext ctx, int from, long... shape) {
        Tensor into = Tensor.allocate(ctx.exec(), DType.F32, shape);
        try {
            pipeline.recv(ctx.exec(), into, from);
            ctx.exec().synchronize();
            if (!into.device().isCuda()) {
                return into;
            }
            try (into) {
                return into.copyTo(Device.CPU);
            }
        } catch (RuntimeException e) {
            into.close();
            throw e;
        }
    }
}
