import io.tpkernels.layers.checkpoint.SafetensorsWriter;
import io.tpkernels.layers.model.DemoModelNames.Projection;
import io.tpkernels.layers.model.DemoModelNames;
import io.tpkernels.runtime.DType;
import io.tpkernels.runtime.Device;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a demo model (docs/contract.md section 13) of any size for the resident-memory measurement:
 * {@code WriteModel DIR VOCAB HIDDEN INTERMEDIATE LAYERS}. `tpk demo` writes only its small fixed model; this writes
 * the same tensors, untied, F32, uniform in ±0.5/√fan_in and the embedding in ±1 (the values do not matter to
 * memory, only that the pages are not zero).
 */
public class WriteModel {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int vocab = Integer.parseInt(args[1]);
        int hidden = Integer.parseInt(args[2]);
        int intermediate = Integer.parseInt(args[3]);
        int layers = Integer.parseInt(args[4]);
        Files.createDirectories(dir);
        SplittableRandom random = new SplittableRandom(2026);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try {
            tensors.put(DemoModelNames.EMBED, uniform(random, vocab, hidden, 1.0));
            double up = 0.5 / Math.sqrt(hidden);
            double down = 0.5 / Math.sqrt(intermediate);
            for (int l = 0; l < layers; l++) {
                tensors.put(DemoModelNames.weight(l, Projection.GATE), uniform(random, intermediate, hidden, up));
                tensors.put(DemoModelNames.weight(l, Projection.UP), uniform(random, intermediate, hidden, up));
                tensors.put(DemoModelNames.weight(l, Projection.DOWN), uniform(random, hidden, intermediate, down));
            }
            tensors.put(DemoModelNames.LM_HEAD, uniform(random, vocab, hidden, up));
            Files.writeString(dir.resolve("config.json"), String.format(
                    "{\"architectures\": [\"LlamaForCausalLM\"], \"vocab_size\": %d, \"hidden_size\": %d, "
                            + "\"intermediate_size\": %d, \"num_hidden_layers\": %d, \"tie_word_embeddings\": false}%n",
                    vocab, hidden, intermediate, layers));
            SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        } finally {
            tensors.values().forEach(Tensor::close);
        }
    }

    private static Tensor uniform(SplittableRandom random, long rows, long cols, double scale) {
        Tensor t = Tensor.allocate(Device.CPU, DType.F32, rows, cols);
        MemorySegment s = t.hostSegment();
        for (long i = 0; i < rows * cols; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) ((random.nextDouble() * 2 - 1) * scale));
        }
        return t;
    }
}
