package io.tpkernels.cli;

import io.tpkernels.ffm.LibraryLocator;
import io.tpkernels.ffm.LibraryName;
import io.tpkernels.ffm.NativeLibrary;
import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.runtime.CudaDevice;
import io.tpkernels.runtime.PtxLibrary;
import io.tpkernels.runtime.Tuning;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** {@code tpk info}: the JDK, the backends found, and where the native libraries were found or why not. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the JDK, the backends (CPU, CUDA devices) and the native libraries found.")
final class InfoCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PrintWriter out = spec.commandLine().getOut();
        out.println("tpkernels " + Tpk.version());
        out.println();
        out.println("JDK");
        out.printf("  %-12s %s (%s)%n", "version", Runtime.version(), System.getProperty("java.vendor"));
        out.printf("  %-12s %s%n", "home", System.getProperty("java.home"));
        out.printf("  %-12s %s%n", "native", InfoCommand.class.getModule().isNativeAccessEnabled()
                ? "access enabled" : "access NOT enabled: run with --enable-native-access (bin/tpk sets it)");
        out.println();
        out.println("Backends");
        out.printf("  %-12s %d cores, %s max heap%n", "cpu", Runtime.getRuntime().availableProcessors(),
                gib(Runtime.getRuntime().maxMemory()));
        cuda(out);
        out.println();
        out.println("Native libraries");
        boolean anyMissing = false;
        for (LibraryName name : LibraryName.ALL) {
            NativeLibrary lib = name == LibraryName.CUDA_DRIVER ? CudaDriver.library() : NativeLibrary.load(name);
            anyMissing |= lib.isMissing();
            out.printf("  %-12s %s%n", name.display(), lib.isLoaded() ? lib.location().orElseThrow()
                    : lib.isMissing() ? "not found (" + String.join(", ", name.fileNames()) + ")"
                    : lib.reason().orElseThrow());
        }
        if (anyMissing) {
            out.printf("  %-12s %s%n", "searched", new LibraryLocator().describeSearch());
        }
        out.flush();
    }

    private static void cuda(PrintWriter out) {
        if (!CudaDriver.isAvailable()) {
            out.printf("  %-12s no GPU can be used: %s%n", "cuda", CudaDevice.unavailableReason().orElseThrow());
            return;
        }
        int version = CudaDriver.driverVersion();
        int count = CudaDevice.count();
        out.printf("  %-12s driver API %d.%d, %s%s%n", "cuda", version / 1000, (version % 1000) / 10,
                Plural.of(count, "device"), count == 0
                        ? ": no GPU can be used: " + CudaDevice.unavailableReason().orElseThrow() : "");
        for (int i = 0; i < count; i++) {
            try {
                CudaDevice d = CudaDevice.of(i);
                out.printf("  %-12s %s, compute capability %d.%d, %s, %d multiprocessors%n", "cuda:" + i, d.name(),
                        d.computeCapabilityMajor(), d.computeCapabilityMinor(), gib(d.totalMemory()),
                        d.multiprocessors());
                out.printf("  %-12s %s%n", "", "kernels tried first from " + firstChoices(d.computeCapability()));
            } catch (RuntimeException e) {
                out.printf("  %-12s cannot be opened: %s%n", "cuda:" + i, e.getMessage());
            }
        }
    }

    /**
     * The code each kernel module tries first on a device of compute capability {@code cc}, under
     * {@code -Dtpk.ptx.source}: modules grouped by that choice. Read from the packaged index, so nothing is loaded or
     * compiled; code the driver refuses falls through to the next choice when a module is loaded.
     */
    private static String firstChoices(int cc) {
        Tuning.PtxSource source;
        try {
            source = Tuning.fromSystemProperties().ptxSource();
        } catch (IllegalArgumentException e) {
            return "? (" + e.getMessage() + ")";
        }
        PtxLibrary library = PtxLibrary.packaged();
        Map<String, List<String>> modules = new TreeMap<>();
        for (String module : library.modules()) {
            List<PtxLibrary.Choice> choices = library.choices(module, cc, source);
            String first = choices.isEmpty() ? "no code for this architecture" : switch (choices.get(0).form()) {
                case CUBIN -> choices.get(0).arch() + " cubin";
                case PTX -> choices.get(0).arch() + " PTX";
                case NVRTC -> "NVRTC for " + choices.get(0).arch();
            };
            modules.computeIfAbsent(first, k -> new ArrayList<>()).add(module);
        }
        return modules.entrySet().stream().map(e -> e.getKey() + " (" + String.join(" ", e.getValue()) + ")")
                .collect(Collectors.joining("; "));
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }
}
