package io.tpkernels.bench.cases;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/** One kernel's measurement: the kernel and its baselines timed on each shape of the bench, one row per shape. */
interface KernelCase {

    /** The name {@code --kernel} takes. */
    String name();

    /** Times the kernel and its baselines on every shape of {@code bench}, handing each row on as it is measured. */
    void measure(Bench bench, Consumer<Result> out);

    /** Every kernel, in the order the report lists them. */
    static List<KernelCase> all() {
        return List.of(new CastCase(), new EmbeddingCase(), new LmHeadCase(), new LoraCase(), new ArgmaxCase(),
                new LmHeadCeCase(), new FinetuneStepCase());
    }

    /**
     * The kernels with these names, in the order given.
     *
     * @throws IllegalArgumentException naming the first unknown name and the known ones
     */
    static List<KernelCase> named(List<String> names) {
        List<KernelCase> out = new ArrayList<>();
        for (String name : names) {
            out.add(all().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow(() ->
                    new IllegalArgumentException("unknown kernel '" + name + "' (known: "
                            + all().stream().map(KernelCase::name).collect(Collectors.joining(", ")) + ")")));
        }
        return out;
    }
}
