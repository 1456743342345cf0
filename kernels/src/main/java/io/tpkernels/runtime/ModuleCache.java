package io.tpkernels.runtime;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.ffm.cuda.CudaException;
import io.tpkernels.ffm.nvrtc.Nvrtc;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The kernel modules loaded into one device's context, each loaded once however many threads ask at once, and
 * their kernels, each looked up once.
 *
 * <p>Which code is loaded: the choices of {@link PtxLibrary#choices}, tried in order: the packaged machine code
 * (cubin) built for this device's architecture, which the driver loads without compiling, then the packaged PTX,
 * which the driver compiles, then the packaged source compiled with NVRTC for this device. Code that the driver
 * rejects (a cubin for another GPU, PTX from CUDA 13, which is ISA 9.0 and needs a driver of 580 or newer) falls
 * through to the next choice. {@link Tuning.PtxSource#PTX} skips the cubins and {@link Tuning.PtxSource#NVRTC} all
 * packaged code (each source is cached apart). Another binding of the driver in the process (JCuda, in
 * {@code tpkernels-jcuda}) loads the same code the same way through {@link #loadWith}.
 */
public final class ModuleCache {
    /** Driver statuses that mean "this code cannot be used here, try another": the others are real errors. */
    private static final List<String> REJECTED_CODE = List.of("CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
            "CUDA_ERROR_INVALID_PTX", "CUDA_ERROR_NO_BINARY_FOR_GPU", "CUDA_ERROR_INVALID_IMAGE",
            "CUDA_ERROR_JIT_COMPILER_NOT_FOUND");

    /**
     * A loaded module and how it was obtained.
     *
     * @param name the module's name
     * @param source where its code came from
     * @param module the driver's {@code CUmodule} handle
     */
    public record Loaded(String name, PtxLibrary.Choice source, MemorySegment module) {
    }

    /**
     * Loads a module image into this device's context through some binding of the driver.
     *
     * @param <M> the binding's module type
     */
    @FunctionalInterface
    public interface ImageLoader<M> {
        /**
         * The module loaded from {@code image}, the bytes {@code cuModuleLoadData} reads: a cubin, or PTX text
         * ending in a NUL. A {@link CudaException} when the driver refuses the code; when its status says the code
         * is unusable here (a cubin for another GPU, too new a PTX ISA), the next choice is tried.
         *
         * @param choice where {@code image} comes from
         * @param image the cubin bytes, or PTX text ending in a NUL
         * @return the loaded module
         */
        M load(PtxLibrary.Choice choice, byte[] image);
    }

    private final CudaDevice device;
    private final PtxLibrary library;
    private final ConcurrentHashMap<String, Loaded> modules = new ConcurrentHashMap<>();
    /** Kernels by source, module and name: a launch looks its kernel up without building a key. */
    private final ConcurrentHashMap<Tuning.PtxSource, ConcurrentHashMap<String, ConcurrentHashMap<String, CudaKernel>>>
            kernels = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> loads = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, String> unavailable = new ConcurrentHashMap<>();
    private final LongAdder lookups = new LongAdder();

    ModuleCache(CudaDevice device) {
        this.device = device;
        this.library = PtxLibrary.packaged();
    }

    /**
     * The kernel {@code kernel} of module {@code module} ({@code cast.cu} is module {@code cast}), packaged code first.
     *
     * @param module the kernel module, the {@code .cu} file's name without extension
     * @param kernel the kernel's name
     * @return the kernel, loaded and looked up once per device
     * @throws IllegalStateException when no code of the module loads on this device
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver fails otherwise, such as a kernel the module lacks
     */
    public CudaKernel kernel(String module, String kernel) {
        return kernel(module, kernel, Tuning.PtxSource.PACKAGED);
    }

    /**
     * The kernel {@code kernel} of module {@code module}, from the code {@code source} names.
     *
     * @param module the kernel module, the {@code .cu} file's name without extension
     * @param kernel the kernel's name
     * @param source which code to load: packaged first, packaged PTX only, or NVRTC
     * @return the kernel, loaded and looked up once per device and source
     * @throws IllegalStateException when no code of the module loads on this device
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver fails otherwise, such as a kernel the module lacks
     */
    public CudaKernel kernel(String module, String kernel, Tuning.PtxSource source) {
        lookups.increment();
        ConcurrentHashMap<String, CudaKernel> ofModule = kernels.computeIfAbsent(source, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(module, k -> new ConcurrentHashMap<>());
        CudaKernel found = ofModule.get(kernel);
        return found != null ? found : ofModule.computeIfAbsent(kernel, k -> kernelOf(module(module, source), kernel));
    }

    /**
     * How many kernel lookups this cache has answered: a diagnostic showing that a planned forward
     * ({@code Linear.plan}, {@code LoraLinear.plan}) looks nothing up, its kernels chosen when it was built.
     *
     * @return the count since the device was opened
     */
    public long kernelLookups() {
        return lookups.sum();
    }

    private static String key(Tuning.PtxSource source, String module) {
        return switch (source) {
            case PACKAGED -> module;
            case PTX -> "ptx:" + module;
            case NVRTC -> "nvrtc:" + module;
        };
    }

    /**
     * The kernel {@code kernel} of module {@code module} when this device can run that module (architecture-specific
     * modules such as {@code gemm_sm90} run on one architecture only), else empty. Whether it can is decided once:
     * a module with no usable code is reported once on the {@code io.tpkernels.runtime} logger and not tried again.
     *
     * @param module the kernel module
     * @param kernel the kernel's name
     * @param source which code to load
     * @return the kernel, or empty when no code of the module loads on this device
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver fails for another reason than unusable code
     */
    public Optional<CudaKernel> kernelIfAvailable(String module, String kernel, Tuning.PtxSource source) {
        String key = key(source, module);
        if (unavailable.containsKey(key)) {
            return Optional.empty();
        }
        try {
            return Optional.of(kernel(module, kernel, source));
        } catch (IllegalStateException e) {
            if (unavailable.putIfAbsent(key, e.getMessage()) == null
                    && !library.choices(module, device.computeCapability(), source).isEmpty()) {
                System.getLogger("io.tpkernels.runtime").log(System.Logger.Level.WARNING, "kernel module " + module
                        + " could not be loaded, its kernels are not used on " + device + ": " + e.getMessage());
            }
            return Optional.empty();
        }
    }

    /**
     * The module from packaged code first, loaded on first request.
     *
     * @param module the kernel module
     * @return the loaded module
     * @throws IllegalStateException when no code of the module loads on this device
     */
    public Loaded module(String module) {
        return module(module, Tuning.PtxSource.PACKAGED);
    }

    /**
     * The module from the code {@code source} names, loaded on first request.
     *
     * @param module the kernel module
     * @param source which code to load
     * @return the loaded module
     * @throws IllegalStateException when no code of the module loads on this device
     */
    public Loaded module(String module, Tuning.PtxSource source) {
        return modules.computeIfAbsent(key(source, module), k -> {
            Loaded loaded = load(module, source, this::loadHere);
            loads.computeIfAbsent(module, n -> new AtomicInteger()).incrementAndGet();
            return loaded;
        });
    }

    /**
     * Loads {@code module} afresh through {@code loader}, from the code this cache would choose, tried in the same
     * order; the caller owns (unloads) what it returns. For other bindings of the driver, so that they run exactly
     * the code this library runs.
     *
     * @param <M> the binding's module type
     * @param module the kernel module
     * @param source which code to load
     * @param loader loads one image through the other binding
     * @return what {@code loader} returned for the first image the driver accepted
     * @throws IllegalStateException when the driver rejects every choice
     */
    public <M> M loadWith(String module, Tuning.PtxSource source, ImageLoader<M> loader) {
        return load(module, source, loader);
    }

    /** Loads {@code module} afresh, outside the cache (the caller unloads it); for tests of each path. */
    Loaded loadUncached(String module, Tuning.PtxSource source) {
        return load(module, source, this::loadHere);
    }

    /** A kernel of a module loaded by {@link #loadUncached}. */
    CudaKernel kernelOf(Loaded loaded, String kernel) {
        device.makeCurrent();
        return new CudaKernel(device, kernel, CudaDriver.moduleGetFunction(loaded.module(), kernel));
    }

    /**
     * How many times this cache has loaded {@code module} into the context: at most once.
     *
     * @param module the kernel module
     * @return 0 or 1
     */
    public int loadCount(String module) {
        AtomicInteger n = loads.get(module);
        return n == null ? 0 : n.get();
    }

    /** Loads {@code image} into this device's context, for the choice it came from. */
    Loaded loadHere(PtxLibrary.Choice choice, byte[] image) {
        try (Arena arena = Arena.ofConfined()) {
            // Aligned as a linker would place an ELF image: the driver reads the cubin's 64-bit header fields in place.
            MemorySegment copy = arena.allocate(image.length, 16);
            MemorySegment.copy(image, 0, copy, ValueLayout.JAVA_BYTE, 0, image.length);
            return new Loaded(choice.module(), choice, CudaDriver.moduleLoadData(copy));
        }
    }

    /** PTX text as the driver reads it: UTF-8 up to a NUL. */
    private static byte[] ptxImage(String ptx) {
        byte[] text = ptx.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(text, text.length + 1);
    }

    private <M> M load(String module, Tuning.PtxSource source, ImageLoader<M> loader) {
        List<String> failures = new ArrayList<>();
        device.makeCurrent();
        for (PtxLibrary.Choice choice : library.choices(module, device.computeCapability(), source)) {
            byte[] image;
            if (choice.form() == PtxLibrary.Form.CUBIN) {
                image = library.cubin(module, choice.arch());
            } else if (choice.nvrtc()) {
                if (!library.hasSource(module)) {
                    failures.add(choice + ": the source is not packaged");
                    continue;
                }
                if (!Nvrtc.isAvailable()) {
                    failures.add(choice + ": " + Nvrtc.library().reason().orElse("NVRTC is not available"));
                    continue;
                }
                image = ptxImage(Nvrtc.compile(library.source(module), module + ".cu", library.headers(),
                        List.of("--gpu-architecture=" + choice.arch(), "--std=c++17", "-lineinfo")));
            } else {
                image = ptxImage(library.ptx(module, choice.arch()));
            }
            try {
                return loader.load(choice, image);
            } catch (CudaException e) {
                if (!REJECTED_CODE.contains(e.statusName())) {
                    throw e;
                }
                failures.add(choice + ": " + e.getMessage());
            }
        }
        throw new IllegalStateException("no usable code for kernel module " + module + " on " + device + ": "
                + String.join("; ", failures));
    }
}
