package io.tpkernels.ffm.cuda;

import static io.tpkernels.ffm.CType.CHAR_PTR;
import static io.tpkernels.ffm.CType.CONST_CHAR_PTR;
import static io.tpkernels.ffm.CType.CONST_VOID_PTR;
import static io.tpkernels.ffm.CType.INT;
import static io.tpkernels.ffm.CType.SIZE_T;
import static io.tpkernels.ffm.CType.UCHAR;
import static io.tpkernels.ffm.CType.UINT;
import static io.tpkernels.ffm.CType.VOID_PTR;

import io.tpkernels.ffm.CConstant;
import io.tpkernels.ffm.CFunction;
import io.tpkernels.ffm.CType;
import java.util.List;

/**
 * The CUDA driver API as this project uses it, declared in C terms: every function {@link CudaDriver}
 * binds and every constant it relies on. The signature test compiles these against {@code cuda.h}.
 *
 * <p>Symbols are the versioned names that {@code cuda.h} {@code #define}s the plain names to
 * ({@code cuMemAlloc} is {@code cuMemAlloc_v2}); binding the plain name would call the old ABI.
 */
public final class CudaDriverApi {
    private CudaDriverApi() {
    }

    // C types, spelled as in cuda.h
    static final CType CURESULT = CType.int32("CUresult");
    static final CType CUDEVICE = CType.int32("CUdevice");
    static final CType CUDEVICE_ATTRIBUTE = CType.int32("CUdevice_attribute");
    static final CType CUFUNCTION_ATTRIBUTE = CType.int32("CUfunction_attribute");
    static final CType CUDEVICEPTR = CType.int64("CUdeviceptr");
    static final CType CUCONTEXT = CType.pointer("CUcontext");
    static final CType CUSTREAM = CType.pointer("CUstream");
    static final CType CUEVENT = CType.pointer("CUevent");
    static final CType CUMODULE = CType.pointer("CUmodule");
    static final CType CUFUNCTION = CType.pointer("CUfunction");
    static final CType INT_PTR = CType.pointer("int *");
    static final CType UNSIGNED_INT_PTR = CType.pointer("unsigned int *");
    static final CType SIZE_T_PTR = CType.pointer("size_t *");
    static final CType FLOAT_PTR = CType.pointer("float *");
    static final CType VOID_PTR_PTR = CType.pointer("void **");
    static final CType CONST_CHAR_PTR_PTR = CType.pointer("const char **");
    static final CType CUDEVICE_PTR = CType.pointer("CUdevice *");
    static final CType CUDEVICEPTR_PTR = CType.pointer("CUdeviceptr *");
    static final CType CUCONTEXT_PTR = CType.pointer("CUcontext *");
    static final CType CUSTREAM_PTR = CType.pointer("CUstream *");
    static final CType CUSTREAM_CAPTURE_STATUS_PTR = CType.pointer("CUstreamCaptureStatus *");
    static final CType CUEVENT_PTR = CType.pointer("CUevent *");
    static final CType CUMODULE_PTR = CType.pointer("CUmodule *");
    static final CType CUFUNCTION_PTR = CType.pointer("CUfunction *");
    static final CType CUTENSORMAP_PTR = CType.pointer("CUtensorMap *");
    static final CType CUTENSORMAP_DATA_TYPE = CType.int32("CUtensorMapDataType");
    static final CType CUUINT32 = CType.int32("cuuint32_t");
    static final CType CONST_CUUINT64_PTR = CType.pointer("const cuuint64_t *");
    static final CType CONST_CUUINT32_PTR = CType.pointer("const cuuint32_t *");
    static final CType CUTENSORMAP_INTERLEAVE = CType.int32("CUtensorMapInterleave");
    static final CType CUTENSORMAP_SWIZZLE = CType.int32("CUtensorMapSwizzle");
    static final CType CUTENSORMAP_L2_PROMOTION = CType.int32("CUtensorMapL2promotion");
    static final CType CUTENSORMAP_OOB_FILL = CType.int32("CUtensorMapFloatOOBfill");

    // Initialization, version, errors
    /** Initializes the driver; every other call needs it first. */
    public static final CFunction cuInit = CFunction.of("cuInit", CURESULT, UINT);
    /** The driver's CUDA version. */
    public static final CFunction cuDriverGetVersion = CFunction.of("cuDriverGetVersion", CURESULT, INT_PTR);
    /** The symbolic name of a {@code CUresult}. */
    public static final CFunction cuGetErrorName = CFunction.of("cuGetErrorName", CURESULT, CURESULT, CONST_CHAR_PTR_PTR);
    /** The description of a {@code CUresult}. */
    public static final CFunction cuGetErrorString = CFunction.of("cuGetErrorString", CURESULT, CURESULT, CONST_CHAR_PTR_PTR);
    // Devices
    /** The number of visible devices. */
    public static final CFunction cuDeviceGetCount = CFunction.of("cuDeviceGetCount", CURESULT, INT_PTR);
    /** The device handle of an ordinal. */
    public static final CFunction cuDeviceGet = CFunction.of("cuDeviceGet", CURESULT, CUDEVICE_PTR, INT);
    /** A device's name. */
    public static final CFunction cuDeviceGetName = CFunction.of("cuDeviceGetName", CURESULT, CHAR_PTR, INT, CUDEVICE);
    /** One attribute of a device ({@code CU_DEVICE_ATTRIBUTE_*}). */
    public static final CFunction cuDeviceGetAttribute =
            CFunction.of("cuDeviceGetAttribute", CURESULT, INT_PTR, CUDEVICE_ATTRIBUTE, CUDEVICE);
    /** A device's memory in bytes. */
    public static final CFunction cuDeviceTotalMem_v2 = CFunction.of("cuDeviceTotalMem_v2", CURESULT, SIZE_T_PTR, CUDEVICE);
    // Contexts (the device's primary context, shared with the runtime API and other libraries)
    /** Retains a device's primary context, creating it on first use. */
    public static final CFunction cuDevicePrimaryCtxRetain =
            CFunction.of("cuDevicePrimaryCtxRetain", CURESULT, CUCONTEXT_PTR, CUDEVICE);
    /** Releases a retain of a device's primary context. */
    public static final CFunction cuDevicePrimaryCtxRelease_v2 =
            CFunction.of("cuDevicePrimaryCtxRelease_v2", CURESULT, CUDEVICE);
    /** Binds a context to the calling thread. */
    public static final CFunction cuCtxSetCurrent = CFunction.of("cuCtxSetCurrent", CURESULT, CUCONTEXT);
    /** The calling thread's context. */
    public static final CFunction cuCtxGetCurrent = CFunction.of("cuCtxGetCurrent", CURESULT, CUCONTEXT_PTR);
    /** Waits for all work of the current context. */
    public static final CFunction cuCtxSynchronize = CFunction.of("cuCtxSynchronize", CURESULT);
    // Memory
    /** Allocates device memory. */
    public static final CFunction cuMemAlloc_v2 = CFunction.of("cuMemAlloc_v2", CURESULT, CUDEVICEPTR_PTR, SIZE_T);
    /** Frees device memory from {@code cuMemAlloc}. */
    public static final CFunction cuMemFree_v2 = CFunction.of("cuMemFree_v2", CURESULT, CUDEVICEPTR);
    /** Free and total memory of the current context's device. */
    public static final CFunction cuMemGetInfo_v2 = CFunction.of("cuMemGetInfo_v2", CURESULT, SIZE_T_PTR, SIZE_T_PTR);
    /** Stream-ordered allocation from the device's default memory pool (CUDA 11.2+): no implicit synchronization. */
    public static final CFunction cuMemAllocAsync =
            CFunction.of("cuMemAllocAsync", CURESULT, CUDEVICEPTR_PTR, SIZE_T, CUSTREAM);
    /** Frees stream-ordered memory in a stream's order. */
    public static final CFunction cuMemFreeAsync = CFunction.of("cuMemFreeAsync", CURESULT, CUDEVICEPTR, CUSTREAM);
    /** Sets device bytes to a value. */
    public static final CFunction cuMemsetD8_v2 = CFunction.of("cuMemsetD8_v2", CURESULT, CUDEVICEPTR, UCHAR, SIZE_T);
    /** Sets device bytes to a value, in a stream's order. */
    public static final CFunction cuMemsetD8Async =
            CFunction.of("cuMemsetD8Async", CURESULT, CUDEVICEPTR, UCHAR, SIZE_T, CUSTREAM);
    /** Copies host memory to the device. */
    public static final CFunction cuMemcpyHtoD_v2 =
            CFunction.of("cuMemcpyHtoD_v2", CURESULT, CUDEVICEPTR, CONST_VOID_PTR, SIZE_T);
    /** Copies device memory to the host. */
    public static final CFunction cuMemcpyDtoH_v2 = CFunction.of("cuMemcpyDtoH_v2", CURESULT, VOID_PTR, CUDEVICEPTR, SIZE_T);
    /** Copies device memory to device memory. */
    public static final CFunction cuMemcpyDtoD_v2 = CFunction.of("cuMemcpyDtoD_v2", CURESULT, CUDEVICEPTR, CUDEVICEPTR, SIZE_T);
    /** Copies host memory to the device, in a stream's order. */
    public static final CFunction cuMemcpyHtoDAsync_v2 =
            CFunction.of("cuMemcpyHtoDAsync_v2", CURESULT, CUDEVICEPTR, CONST_VOID_PTR, SIZE_T, CUSTREAM);
    /** Copies device memory to the host, in a stream's order. */
    public static final CFunction cuMemcpyDtoHAsync_v2 =
            CFunction.of("cuMemcpyDtoHAsync_v2", CURESULT, VOID_PTR, CUDEVICEPTR, SIZE_T, CUSTREAM);
    /** Copies device memory to device memory, in a stream's order. */
    public static final CFunction cuMemcpyDtoDAsync_v2 =
            CFunction.of("cuMemcpyDtoDAsync_v2", CURESULT, CUDEVICEPTR, CUDEVICEPTR, SIZE_T, CUSTREAM);
    // Streams and events
    /** Creates a stream. */
    public static final CFunction cuStreamCreate = CFunction.of("cuStreamCreate", CURESULT, CUSTREAM_PTR, UINT);
    /** Destroys a stream once its work is done. */
    public static final CFunction cuStreamDestroy_v2 = CFunction.of("cuStreamDestroy_v2", CURESULT, CUSTREAM);
    /** Waits for a stream's work. */
    public static final CFunction cuStreamSynchronize = CFunction.of("cuStreamSynchronize", CURESULT, CUSTREAM);
    /** Whether a stream's work is done, without waiting. */
    public static final CFunction cuStreamQuery = CFunction.of("cuStreamQuery", CURESULT, CUSTREAM);
    /** Makes a stream's later work wait for an event. */
    public static final CFunction cuStreamWaitEvent =
            CFunction.of("cuStreamWaitEvent", CURESULT, CUSTREAM, CUEVENT, UINT);
    /** Whether a stream is being captured into a CUDA graph. */
    public static final CFunction cuStreamIsCapturing =
            CFunction.of("cuStreamIsCapturing", CURESULT, CUSTREAM, CUSTREAM_CAPTURE_STATUS_PTR);
    /** Creates an event. */
    public static final CFunction cuEventCreate = CFunction.of("cuEventCreate", CURESULT, CUEVENT_PTR, UINT);
    /** Destroys an event. */
    public static final CFunction cuEventDestroy_v2 = CFunction.of("cuEventDestroy_v2", CURESULT, CUEVENT);
    /** Records an event at the end of a stream's queued work. */
    public static final CFunction cuEventRecord = CFunction.of("cuEventRecord", CURESULT, CUEVENT, CUSTREAM);
    /** Waits for an event's recorded work. */
    public static final CFunction cuEventSynchronize = CFunction.of("cuEventSynchronize", CURESULT, CUEVENT);
    /** Drivers before 12.8 export only the older name, with the same ABI. */
    public static final CFunction cuEventElapsedTime_v2 =
            CFunction.of("cuEventElapsedTime_v2", CURESULT, FLOAT_PTR, CUEVENT, CUEVENT).orOlder("cuEventElapsedTime");
    // Modules and launches
    /** Loads a module from a cubin or PTX image in memory. */
    public static final CFunction cuModuleLoadData = CFunction.of("cuModuleLoadData", CURESULT, CUMODULE_PTR, CONST_VOID_PTR);
    /** Unloads a module. */
    public static final CFunction cuModuleUnload = CFunction.of("cuModuleUnload", CURESULT, CUMODULE);
    /** A kernel of a module, by name. */
    public static final CFunction cuModuleGetFunction =
            CFunction.of("cuModuleGetFunction", CURESULT, CUFUNCTION_PTR, CUMODULE, CONST_CHAR_PTR);
    /** Queues a kernel launch on a stream. */
    public static final CFunction cuLaunchKernel = CFunction.of("cuLaunchKernel", CURESULT, CUFUNCTION,
            UINT, UINT, UINT, UINT, UINT, UINT, UINT, CUSTREAM, VOID_PTR_PTR, VOID_PTR_PTR);
    /** One attribute of a kernel ({@code CU_FUNC_ATTRIBUTE_*}). */
    public static final CFunction cuFuncGetAttribute =
            CFunction.of("cuFuncGetAttribute", CURESULT, INT_PTR, CUFUNCTION_ATTRIBUTE, CUFUNCTION);
    /** Sets one attribute of a kernel ({@code CU_FUNC_ATTRIBUTE_*}). */
    public static final CFunction cuFuncSetAttribute =
            CFunction.of("cuFuncSetAttribute", CURESULT, CUFUNCTION, CUFUNCTION_ATTRIBUTE, INT);
    // Tensor maps (Hopper's TMA): the descriptor a kernel's bulk tensor copies read
    /** Encodes the {@code CUtensorMap} of a tiled tensor for TMA copies. */
    public static final CFunction cuTensorMapEncodeTiled = CFunction.of("cuTensorMapEncodeTiled", CURESULT,
            CUTENSORMAP_PTR, CUTENSORMAP_DATA_TYPE, CUUINT32, VOID_PTR, CONST_CUUINT64_PTR, CONST_CUUINT64_PTR,
            CONST_CUUINT32_PTR, CONST_CUUINT32_PTR, CUTENSORMAP_INTERLEAVE, CUTENSORMAP_SWIZZLE,
            CUTENSORMAP_L2_PROMOTION, CUTENSORMAP_OOB_FILL);

    /** Every function bound, for the signature test and for {@code tpk info}. */
    public static final List<CFunction> FUNCTIONS = List.of(
            cuInit, cuDriverGetVersion, cuGetErrorName, cuGetErrorString,
            cuDeviceGetCount, cuDeviceGet, cuDeviceGetName, cuDeviceGetAttribute, cuDeviceTotalMem_v2,
            cuDevicePrimaryCtxRetain, cuDevicePrimaryCtxRelease_v2, cuCtxSetCurrent, cuCtxGetCurrent, cuCtxSynchronize,
            cuMemAlloc_v2, cuMemFree_v2, cuMemAllocAsync, cuMemFreeAsync, cuMemGetInfo_v2, cuMemsetD8_v2, cuMemsetD8Async,
            cuMemcpyHtoD_v2, cuMemcpyDtoH_v2, cuMemcpyDtoD_v2,
            cuMemcpyHtoDAsync_v2, cuMemcpyDtoHAsync_v2, cuMemcpyDtoDAsync_v2,
            cuStreamCreate, cuStreamDestroy_v2, cuStreamSynchronize, cuStreamQuery, cuStreamWaitEvent, cuStreamIsCapturing,
            cuEventCreate, cuEventDestroy_v2, cuEventRecord, cuEventSynchronize, cuEventElapsedTime_v2,
            cuModuleLoadData, cuModuleUnload, cuModuleGetFunction, cuLaunchKernel,
            cuFuncGetAttribute, cuFuncSetAttribute, cuTensorMapEncodeTiled);

    // Stream capture (CUstreamCaptureStatus)
    /** {@code CUstreamCaptureStatus}: the stream is not capturing. */
    public static final int CU_STREAM_CAPTURE_STATUS_NONE = 0;

    // Device attributes (CUdevice_attribute)
    /** Device attribute: the most threads a block may have. */
    public static final int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
    /** Device attribute: threads per warp. */
    public static final int CU_DEVICE_ATTRIBUTE_WARP_SIZE = 10;
    /** Device attribute: the peak clock, in kHz. */
    public static final int CU_DEVICE_ATTRIBUTE_CLOCK_RATE = 13;
    /** Device attribute: streaming multiprocessors. */
    public static final int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    /** Device attribute: the PCI bus id. */
    public static final int CU_DEVICE_ATTRIBUTE_PCI_BUS_ID = 33;
    /** Device attribute: the peak memory clock, in kHz. */
    public static final int CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE = 36;
    /** Device attribute: the memory bus width, in bits. */
    public static final int CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH = 37;
    /** Device attribute: the L2 cache, in bytes. */
    public static final int CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE = 38;
    /** Device attribute: the most resident threads per multiprocessor. */
    public static final int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR = 39;
    /** Device attribute: the compute capability's major version. */
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    /** Device attribute: the compute capability's minor version. */
    public static final int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    /** Device attribute: shared memory per multiprocessor, in bytes. */
    public static final int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR = 81;
    /** Device attribute: the most shared memory a block may opt in to, in bytes. */
    public static final int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    // Function attributes (CUfunction_attribute)
    /** Kernel attribute: the most threads a block of it may have. */
    public static final int CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 0;
    /** Kernel attribute: its static shared memory, in bytes. */
    public static final int CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;
    /** Kernel attribute: local memory per thread, in bytes. */
    public static final int CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES = 3;
    /** Kernel attribute: registers per thread. */
    public static final int CU_FUNC_ATTRIBUTE_NUM_REGS = 4;
    /** Kernel attribute: the PTX virtual architecture it was compiled for. */
    public static final int CU_FUNC_ATTRIBUTE_PTX_VERSION = 5;
    /** Kernel attribute: the architecture of its machine code. */
    public static final int CU_FUNC_ATTRIBUTE_BINARY_VERSION = 6;
    /** Kernel attribute: the most dynamic shared memory a launch may ask for. */
    public static final int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    // Stream and event flags
    /** Stream flag: ordered with the legacy default stream. */
    public static final int CU_STREAM_DEFAULT = 0;
    /** Stream flag: not ordered with the legacy default stream. */
    public static final int CU_STREAM_NON_BLOCKING = 1;
    /** Event flag: an event that records time. */
    public static final int CU_EVENT_DEFAULT = 0;
    /** Event flag: no timing, cheaper to record and wait for. */
    public static final int CU_EVENT_DISABLE_TIMING = 2;
    // Tensor maps: sizes, element types, layouts
    /** The 8-byte words of a {@code CUtensorMap}. */
    public static final int CU_TENSOR_MAP_NUM_QWORDS = 16;
    /** Tensor map element type: binary16. */
    public static final int CU_TENSOR_MAP_DATA_TYPE_FLOAT16 = 6;
    /** Tensor map element type: binary32. */
    public static final int CU_TENSOR_MAP_DATA_TYPE_FLOAT32 = 7;
    /** Tensor map element type: bfloat16. */
    public static final int CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 = 9;
    /** Tensor map interleave: none. */
    public static final int CU_TENSOR_MAP_INTERLEAVE_NONE = 0;
    /** Tensor map swizzle: none. */
    public static final int CU_TENSOR_MAP_SWIZZLE_NONE = 0;
    /** Tensor map swizzle: 128-byte rows in shared memory. */
    public static final int CU_TENSOR_MAP_SWIZZLE_128B = 3;
    /** Tensor map L2 promotion: none. */
    public static final int CU_TENSOR_MAP_L2_PROMOTION_NONE = 0;
    /** Tensor map L2 promotion: 256-byte lines. */
    public static final int CU_TENSOR_MAP_L2_PROMOTION_L2_256B = 3;
    /** Tensor map out-of-bounds fill: zeros (no NaN fill). */
    public static final int CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE = 0;

    /** The constants above, by C name, for the signature test. */
    public static final List<CConstant> CONSTANTS = List.of(
            c("CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK", CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK),
            c("CU_DEVICE_ATTRIBUTE_WARP_SIZE", CU_DEVICE_ATTRIBUTE_WARP_SIZE),
            c("CU_DEVICE_ATTRIBUTE_CLOCK_RATE", CU_DEVICE_ATTRIBUTE_CLOCK_RATE),
            c("CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT", CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
            c("CU_DEVICE_ATTRIBUTE_PCI_BUS_ID", CU_DEVICE_ATTRIBUTE_PCI_BUS_ID),
            c("CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE", CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE),
            c("CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH", CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH),
            c("CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE", CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE),
            c("CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR", CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR),
            c("CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR", CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
            c("CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR", CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
            c("CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR",
                    CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR),
            c("CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN", CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN),
            c("CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK", CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK),
            c("CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES", CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES),
            c("CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES", CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES),
            c("CU_FUNC_ATTRIBUTE_NUM_REGS", CU_FUNC_ATTRIBUTE_NUM_REGS),
            c("CU_FUNC_ATTRIBUTE_PTX_VERSION", CU_FUNC_ATTRIBUTE_PTX_VERSION),
            c("CU_FUNC_ATTRIBUTE_BINARY_VERSION", CU_FUNC_ATTRIBUTE_BINARY_VERSION),
            c("CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES", CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES),
            c("CU_STREAM_DEFAULT", CU_STREAM_DEFAULT),
            c("CU_STREAM_NON_BLOCKING", CU_STREAM_NON_BLOCKING),
            c("CU_EVENT_DEFAULT", CU_EVENT_DEFAULT),
            c("CU_EVENT_DISABLE_TIMING", CU_EVENT_DISABLE_TIMING),
            c("CU_TENSOR_MAP_NUM_QWORDS", CU_TENSOR_MAP_NUM_QWORDS),
            c("CU_TENSOR_MAP_DATA_TYPE_FLOAT16", CU_TENSOR_MAP_DATA_TYPE_FLOAT16),
            c("CU_TENSOR_MAP_DATA_TYPE_FLOAT32", CU_TENSOR_MAP_DATA_TYPE_FLOAT32),
            c("CU_TENSOR_MAP_DATA_TYPE_BFLOAT16", CU_TENSOR_MAP_DATA_TYPE_BFLOAT16),
            c("CU_TENSOR_MAP_INTERLEAVE_NONE", CU_TENSOR_MAP_INTERLEAVE_NONE),
            c("CU_TENSOR_MAP_SWIZZLE_NONE", CU_TENSOR_MAP_SWIZZLE_NONE),
            c("CU_TENSOR_MAP_SWIZZLE_128B", CU_TENSOR_MAP_SWIZZLE_128B),
            c("CU_TENSOR_MAP_L2_PROMOTION_NONE", CU_TENSOR_MAP_L2_PROMOTION_NONE),
            c("CU_TENSOR_MAP_L2_PROMOTION_L2_256B", CU_TENSOR_MAP_L2_PROMOTION_L2_256B),
            c("CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE", CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE));

    /** Every {@code CUresult} by name: used when the driver cannot name a status itself. */
    public static final List<CConstant> RESULTS = List.of(
            c("CUDA_SUCCESS", 0),
            c("CUDA_ERROR_INVALID_VALUE", 1),
            c("CUDA_ERROR_OUT_OF_MEMORY", 2),
            c("CUDA_ERROR_NOT_INITIALIZED", 3),
            c("CUDA_ERROR_DEINITIALIZED", 4),
            c("CUDA_ERROR_PROFILER_DISABLED", 5),
            c("CUDA_ERROR_PROFILER_NOT_INITIALIZED", 6),
            c("CUDA_ERROR_PROFILER_ALREADY_STARTED", 7),
            c("CUDA_ERROR_PROFILER_ALREADY_STOPPED", 8),
            c("CUDA_ERROR_STUB_LIBRARY", 34),
            c("CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER", 36),
            c("CUDA_ERROR_DEVICE_UNAVAILABLE", 46),
            c("CUDA_ERROR_NO_DEVICE", 100),
            c("CUDA_ERROR_INVALID_DEVICE", 101),
            c("CUDA_ERROR_DEVICE_NOT_LICENSED", 102),
            c("CUDA_ERROR_INVALID_IMAGE", 200),
            c("CUDA_ERROR_INVALID_CONTEXT", 201),
            c("CUDA_ERROR_CONTEXT_ALREADY_CURRENT", 202),
            c("CUDA_ERROR_MAP_FAILED", 205),
            c("CUDA_ERROR_UNMAP_FAILED", 206),
            c("CUDA_ERROR_ARRAY_IS_MAPPED", 207),
            c("CUDA_ERROR_ALREADY_MAPPED", 208),
            c("CUDA_ERROR_NO_BINARY_FOR_GPU", 209),
            c("CUDA_ERROR_ALREADY_ACQUIRED", 210),
            c("CUDA_ERROR_NOT_MAPPED", 211),
            c("CUDA_ERROR_NOT_MAPPED_AS_ARRAY", 212),
            c("CUDA_ERROR_NOT_MAPPED_AS_POINTER", 213),
            c("CUDA_ERROR_ECC_UNCORRECTABLE", 214),
            c("CUDA_ERROR_UNSUPPORTED_LIMIT", 215),
            c("CUDA_ERROR_CONTEXT_ALREADY_IN_USE", 216),
            c("CUDA_ERROR_PEER_ACCESS_UNSUPPORTED", 217),
            c("CUDA_ERROR_INVALID_PTX", 218),
            c("CUDA_ERROR_INVALID_GRAPHICS_CONTEXT", 219),
            c("CUDA_ERROR_NVLINK_UNCORRECTABLE", 220),
            c("CUDA_ERROR_JIT_COMPILER_NOT_FOUND", 221),
            c("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", 222),
            c("CUDA_ERROR_JIT_COMPILATION_DISABLED", 223),
            c("CUDA_ERROR_UNSUPPORTED_EXEC_AFFINITY", 224),
            c("CUDA_ERROR_UNSUPPORTED_DEVSIDE_SYNC", 225),
            c("CUDA_ERROR_CONTAINED", 226),
            c("CUDA_ERROR_INVALID_SOURCE", 300),
            c("CUDA_ERROR_FILE_NOT_FOUND", 301),
            c("CUDA_ERROR_SHARED_OBJECT_SYMBOL_NOT_FOUND", 302),
            c("CUDA_ERROR_SHARED_OBJECT_INIT_FAILED", 303),
            c("CUDA_ERROR_OPERATING_SYSTEM", 304),
            c("CUDA_ERROR_INVALID_HANDLE", 400),
            c("CUDA_ERROR_ILLEGAL_STATE", 401),
            c("CUDA_ERROR_LOSSY_QUERY", 402),
            c("CUDA_ERROR_NOT_FOUND", 500),
            c("CUDA_ERROR_NOT_READY", 600),
            c("CUDA_ERROR_ILLEGAL_ADDRESS", 700),
            c("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", 701),
            c("CUDA_ERROR_LAUNCH_TIMEOUT", 702),
            c("CUDA_ERROR_LAUNCH_INCOMPATIBLE_TEXTURING", 703),
            c("CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED", 704),
            c("CUDA_ERROR_PEER_ACCESS_NOT_ENABLED", 705),
            c("CUDA_ERROR_PRIMARY_CONTEXT_ACTIVE", 708),
            c("CUDA_ERROR_CONTEXT_IS_DESTROYED", 709),
            c("CUDA_ERROR_ASSERT", 710),
            c("CUDA_ERROR_TOO_MANY_PEERS", 711),
            c("CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED", 712),
            c("CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED", 713),
            c("CUDA_ERROR_HARDWARE_STACK_ERROR", 714),
            c("CUDA_ERROR_ILLEGAL_INSTRUCTION", 715),
            c("CUDA_ERROR_MISALIGNED_ADDRESS", 716),
            c("CUDA_ERROR_INVALID_ADDRESS_SPACE", 717),
            c("CUDA_ERROR_INVALID_PC", 718),
            c("CUDA_ERROR_LAUNCH_FAILED", 719),
            c("CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE", 720),
            c("CUDA_ERROR_TENSOR_MEMORY_LEAK", 721),
            c("CUDA_ERROR_NOT_PERMITTED", 800),
            c("CUDA_ERROR_NOT_SUPPORTED", 801),
            c("CUDA_ERROR_SYSTEM_NOT_READY", 802),
            c("CUDA_ERROR_SYSTEM_DRIVER_MISMATCH", 803),
            c("CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE", 804),
            c("CUDA_ERROR_MPS_CONNECTION_FAILED", 805),
            c("CUDA_ERROR_MPS_RPC_FAILURE", 806),
            c("CUDA_ERROR_MPS_SERVER_NOT_READY", 807),
            c("CUDA_ERROR_MPS_MAX_CLIENTS_REACHED", 808),
            c("CUDA_ERROR_MPS_MAX_CONNECTIONS_REACHED", 809),
            c("CUDA_ERROR_MPS_CLIENT_TERMINATED", 810),
            c("CUDA_ERROR_CDP_NOT_SUPPORTED", 811),
            c("CUDA_ERROR_CDP_VERSION_MISMATCH", 812),
            c("CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED", 900),
            c("CUDA_ERROR_STREAM_CAPTURE_INVALIDATED", 901),
            c("CUDA_ERROR_STREAM_CAPTURE_MERGE", 902),
            c("CUDA_ERROR_STREAM_CAPTURE_UNMATCHED", 903),
            c("CUDA_ERROR_STREAM_CAPTURE_UNJOINED", 904),
            c("CUDA_ERROR_STREAM_CAPTURE_ISOLATION", 905),
            c("CUDA_ERROR_STREAM_CAPTURE_IMPLICIT", 906),
            c("CUDA_ERROR_CAPTURED_EVENT", 907),
            c("CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD", 908),
            c("CUDA_ERROR_TIMEOUT", 909),
            c("CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE", 910),
            c("CUDA_ERROR_EXTERNAL_DEVICE", 911),
            c("CUDA_ERROR_INVALID_CLUSTER_SIZE", 912),
            c("CUDA_ERROR_FUNCTION_NOT_LOADED", 913),
            c("CUDA_ERROR_INVALID_RESOURCE_TYPE", 914),
            c("CUDA_ERROR_INVALID_RESOURCE_CONFIGURATION", 915),
            c("CUDA_ERROR_KEY_ROTATION", 916),
            c("CUDA_ERROR_UNKNOWN", 999));

    private static CConstant c(String name, int value) {
        return new CConstant(name, value);
    }
}
