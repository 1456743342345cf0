package io.tpkernels.ffm;

import java.util.List;

/**
 * A native library to look for: what to call it in messages and the file names to try, newest first.
 * Linux file names; the versioned name comes first because the unversioned {@code .so} ships only with
 * toolkits (and for the driver, only as a stub that fails every call).
 *
 * @param display   what messages call it ({@code "CUDA driver"})
 * @param fileNames the file names to try, in order
 */
public record LibraryName(String display, List<String> fileNames) {

    /** The CUDA driver API. Never the toolkit's {@code stubs/libcuda.so}. */
    public static final LibraryName CUDA_DRIVER = new LibraryName("CUDA driver", List.of("libcuda.so.1"));
    /** The runtime compiler, used when no packaged PTX fits the device or the driver rejects it. */
    public static final LibraryName NVRTC = new LibraryName("NVRTC",
            List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"));
    /** cuBLAS, the yardstick for the GEMM kernels. */
    public static final LibraryName CUBLAS = new LibraryName("cuBLAS",
            List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so"));
    /** cuBLASLt, cuBLAS's matmul engine. */
    public static final LibraryName CUBLAS_LT = new LibraryName("cuBLASLt",
            List.of("libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"));
    /** NCCL, for collectives across GPUs and hosts. */
    public static final LibraryName NCCL = new LibraryName("NCCL", List.of("libnccl.so.2", "libnccl.so"));

    /** Every library the project may use, in the order {@code tpk info} reports them. */
    public static final List<LibraryName> ALL = List.of(CUDA_DRIVER, NVRTC, CUBLAS, CUBLAS_LT, NCCL);

    /**
     * Copies the file names.
     *
     * @param display what messages call it
     * @param fileNames the file names to try, at least one
     * @throws IllegalArgumentException when there is no file name
     */
    public LibraryName {
        fileNames = List.copyOf(fileNames);
        if (fileNames.isEmpty()) {
            throw new IllegalArgumentException(display + ": no file names to look for");
        }
    }
}
