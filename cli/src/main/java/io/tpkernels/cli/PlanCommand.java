package io.tpkernels.cli;

import io.tpkernels.layers.config.ArchitectureConfig;
import io.tpkernels.layers.config.ModelConfig;
import io.tpkernels.layers.config.MoeConfig;
import io.tpkernels.layers.json.JsonWriter;
import io.tpkernels.layers.plan.ParallelPlan;
import io.tpkernels.runtime.DType;
import io.tpkernels.shard.PipelinePartition;
import io.tpkernels.shard.VocabShard;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/** {@code tpk plan}: vocab shards, pipeline stages and memory per rank for a Hugging Face config. */
@Command(name = "plan", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Place a model's parameters on tensor-parallel ranks and pipeline stages: the vocab shard of"
                + " each rank, the layers of each stage and the bytes each rank holds.",
                "Counts LLaMA, Mistral, Qwen2/3, Mixtral, Qwen2/3-MoE and DeepSeek-V2/V3 (MLA, experts, fp8 blocks)"
                        + " as Hugging Face transformers instantiates them."})
final class PlanCommand implements Callable<Integer> {

    /** Parameter dtypes for the byte counts; {@code auto} is the config's {@code torch_dtype} (else BF16). */
    enum ParamDType {
        auto(null), bf16(DType.BF16), f16(DType.F16), f32(DType.F32);

        final DType dtype;

        ParamDType(DType dtype) {
            this.dtype = dtype;
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", required = true, paramLabel = "FILE", description = "a Hugging Face config.json")
    Path config;

    @Option(names = "--tp", required = true, paramLabel = "N",
            description = "tensor-parallel size, " + OptionRanges.TP_RANGE)
    int tp;

    @Option(names = "--pp", defaultValue = "1", paramLabel = "P",
            description = "pipeline stages, " + OptionRanges.PP_RANGE + " (default: ${DEFAULT-VALUE})")
    int pp;

    @Option(names = "--pad-multiple", defaultValue = "" + VocabShard.DEFAULT_MULTIPLE, paramLabel = "M",
            description = "pad the vocabulary to a multiple of M·tp, " + OptionRanges.MULTIPLE_RANGE
                    + " (default: ${DEFAULT-VALUE})")
    int padMultiple;

    @Option(names = "--remainder", defaultValue = "first", paramLabel = "first|last",
            description = "which stages take the extra layers of a balanced split (default: ${DEFAULT-VALUE})")
    PipelinePartition.Remainder remainder;

    @Option(names = "--partition", paramLabel = "a,b,...", description = "explicit layers per stage")
    String partition;

    @Option(names = "--balance", defaultValue = "layers", paramLabel = "layers|memory",
            description = "split by layer count, or minimise the largest stage's bytes (default: ${DEFAULT-VALUE})")
    ParallelPlan.Balance balance;

    @Option(names = "--dtype", defaultValue = "auto", paramLabel = "auto|bf16|f16|f32",
            description = "dtype of the unquantized parameters for byte counts (default: ${DEFAULT-VALUE}: the "
                    + "config's torch_dtype, else bf16; fp8 weights of a quantization_config stay fp8)")
    ParamDType dtype;

    @Option(names = "--lora-rank", defaultValue = "0", paramLabel = "R",
            description = "add LoRA of rank R to every projection, " + OptionRanges.LORA_RANK_RANGE + " (0: none)")
    int loraRank;

    @Option(names = "--json", description = "print JSON instead of a table")
    boolean json;

    @Option(names = "--debug", description = "show the stack trace of an error")
    boolean debug;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        ParallelPlan plan;
        try {
            ArchitectureConfig model = ArchitectureConfig.read(config);
            plan = ParallelPlan.of(model, new ParallelPlan.Options(tp, pp, padMultiple, remainder, partition,
                    balance, dtype.dtype, loraRank));
        } catch (IllegalArgumentException e) {
            return Tpk.badInput("plan", e, err, debug);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            out.println(toJson(plan));
        } else {
            printTable(out, plan);
        }
        out.flush();
        return 0;
    }

    static String toJson(ParallelPlan plan) {
        Map<String, Object> root = new LinkedHashMap<>();
        VocabShard first = plan.vocabShards().get(0);
        root.put("architecture", plan.architecture().architecture().label());
        root.put("vocabSize", first.vocabSize());
        root.put("paddedVocabSize", first.paddedVocabSize());
        root.put("tp", plan.options().tp());
        root.put("pp", plan.options().pp());
        root.put("padMultiple", plan.options().padMultiple());
        root.put("dtype", plan.format().dtype().name());
        Map<String, Object> quantization = null;
        if (plan.format().quantized()) {
            quantization = new LinkedHashMap<>();
            quantization.put("method", "fp8");
            quantization.put("weightBlockSize", List.of(plan.format().fp8().blockRows(), plan.format().fp8().blockCols()));
            quantization.put("scaleDtype", "F32");
        }
        root.put("quantization", quantization);
        root.put("totalParams", plan.totalParams());
        root.put("totalBytes", plan.totalBytes());
        root.put("notes", plan.notes());
        root.put("partition", plan.partition().toString());
        root.put("stages", plan.stages().stream().map(PlanCommand::stage).toList());
        root.put("imbalance", plan.imbalance());
        root.put("layerBalancedMaxStageBytes", plan.layerBalancedMaxStageBytes());
        List<Map<String, Object>> shards = new ArrayList<>();
        for (VocabShard v : plan.vocabShards()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("rank", v.rank());
            m.put("start", v.start());
            m.put("end", v.end());
            m.put("validRows", v.validRows());
            m.put("paddingRows", v.paddingRows());
            shards.add(m);
        }
        root.put("vocabShards", shards);
        return JsonWriter.pretty(root);
    }

    /** A stage's fields by their record names, in their order. */
    private static Map<String, Object> stage(ParallelPlan.Stage s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("stage", s.stage());
        m.put("firstLayer", s.firstLayer());
        m.put("endLayer", s.endLayer());
        m.put("layers", s.layers());
        m.put("embedding", s.embedding());
        m.put("lmHead", s.lmHead());
        m.put("paramsPerRank", s.paramsPerRank());
        m.put("bytesPerRank", s.bytesPerRank());
        return m;
    }

    private static void printTable(PrintWriter out, ParallelPlan plan) {
        ModelConfig m = plan.config();
        ArchitectureConfig a = plan.architecture();
        ParallelPlan.Options o = plan.options();
        out.printf(Locale.ROOT, "model   %s: vocab %,d, hidden %,d, %s, %s; %s%s%n", a.architecture().label(),
                m.vocabSize(), m.hiddenSize(), Plural.of(m.numHiddenLayers(), "layer"), attention(a), mlp(a),
                m.tieWordEmbeddings() ? ", tied embeddings" : "");
        out.printf(Locale.ROOT, "plan    tp %d x pp %d, %s, pad multiple %d, %s%s%n", o.tp(), o.pp(),
                plan.format().describe(), o.padMultiple(), o.partition() != null ? "partition " + o.partition()
                        : o.balance() == ParallelPlan.Balance.MEMORY ? "balanced by memory"
                        : "balanced by layers (remainder " + o.remainder().name().toLowerCase(Locale.ROOT) + ")",
                o.loraRank() > 0 ? ", LoRA rank " + o.loraRank() : "");
        out.printf(Locale.ROOT, "total   %,d parameters, %s (the whole model, unsharded)%n", plan.totalParams(),
                bytes(plan.totalBytes()));
        for (String note : plan.notes()) {
            out.println("note    " + note);
        }
        out.println();
        out.println("stages (per TP rank)");
        out.printf("  %-6s %-12s %6s  %-9s %-7s %16s %12s%n", "stage", "layers", "count", "embedding", "lm head",
                "params", "bytes");
        for (ParallelPlan.Stage s : plan.stages()) {
            out.printf(Locale.ROOT, "  %-6d %-12s %6d  %-9s %-7s %,16d %12s%n", s.stage(),
                    "[" + s.firstLayer() + ", " + s.endLayer() + ")", s.layers(), s.embedding() ? "yes" : "-",
                    s.lmHead() ? "yes" : "-", s.paramsPerRank(), bytes(s.bytesPerRank()));
        }
        out.printf(Locale.ROOT, "  imbalance %.3f (largest / smallest stage)%n", plan.imbalance());
        if (o.balance() == ParallelPlan.Balance.MEMORY) {
            long saved = plan.layerBalancedMaxStageBytes() - plan.maxStageBytes();
            out.printf(Locale.ROOT, "  largest stage %s, against %s with --balance layers: saves %s (%.1f%%)%n",
                    bytes(plan.maxStageBytes()), bytes(plan.layerBalancedMaxStageBytes()), bytes(saved),
                    100.0 * saved / plan.layerBalancedMaxStageBytes());
        }
        out.println();
        VocabShard first = plan.vocabShards().get(0);
        out.printf(Locale.ROOT, "vocab shards (vocab %,d padded to %,d: %,d rows per shard)%n", first.vocabSize(),
                first.paddedVocabSize(), first.shardSize());
        out.printf("  %-5s %12s %12s %12s %12s%n", "rank", "start", "end", "valid", "padding");
        for (VocabShard v : plan.vocabShards()) {
            out.printf(Locale.ROOT, "  %-5d %12d %12d %12d %12d%n", v.rank(), v.start(), v.end(), v.validRows(),
                    v.paddingRows());
        }
    }

    private static String attention(ArchitectureConfig a) {
        ModelConfig m = a.base();
        if (!m.hasAttention()) {
            return "MLP-only";
        }
        if (a.mla() != null) {
            return String.format(Locale.ROOT, "MLA with %s (q_lora_rank %s, kv_lora_rank %d)",
                    Plural.of(m.numAttentionHeads(), "head"), a.mla().lowRankQ() ? Long.toString(a.mla().qLoraRank()) : "none",
                    a.mla().kvLoraRank());
        }
        return Plural.of(m.numAttentionHeads(), "head") + " (" + m.numKeyValueHeads() + " kv, head_dim " + m.headDim() + ")";
    }

    private static String mlp(ArchitectureConfig a) {
        int layers = a.base().numHiddenLayers();
        MoeConfig moe = a.moe();
        long moeLayers = moe == null ? 0 : IntStream.range(0, layers).filter(moe::isMoeLayer).count();
        String dense = String.format(Locale.ROOT, "intermediate %,d", a.base().intermediateSize());
        if (moeLayers == 0) {
            return dense;
        }
        String experts = String.format(Locale.ROOT, "%s of %s x %,d%s", Plural.of(moeLayers, "MoE layer"),
                Plural.of(moe.experts(), "expert"),
                moe.expertIntermediate(), moe.sharedIntermediate() > 0
                        ? String.format(Locale.ROOT, " + shared %,d", moe.sharedIntermediate()) : "");
        return moeLayers == layers ? experts : experts + ", " + (layers - moeLayers) + " dense of " + dense;
    }

    static String bytes(long b) {
        if (b < 1024) {
            return b + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = b;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}
