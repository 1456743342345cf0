package io.tpkernels.runtime;

import io.tpkernels.ffm.cuda.CudaDriver;
import io.tpkernels.ffm.cuda.CudaDriverApi;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tensor maps ({@code CUtensorMap}) for Hopper's tensor-memory accelerator: the descriptor of a global tensor and
 * of the box a kernel's bulk tensor copy ({@code cp.async.bulk.tensor}) moves into shared memory, passed to the
 * kernel by value ({@link KernelArgs#struct}).
 *
 * <p>A map is a pure function of what it describes (address, dtype, shape, box), so each is encoded once and copied
 * from then on: a layer's weight is described by the same map on every forward, and so is an activation that the
 * stream-ordered allocator hands the same address again. The cache is bounded (cleared past
 * {@value #CACHED_MOST} maps).
 */
public final class TensorMaps {
    /** Bytes of one map, and its alignment. */
    public static final long BYTES = CudaDriver.TENSOR_MAP_BYTES;
    /** The alignment, in bytes, a map's copy must have when it is passed by value. */
    public static final long ALIGNMENT = CudaDriver.TENSOR_MAP_ALIGNMENT;
    private static final int CACHED_MOST = 4096;

    private record Described(DType dtype, long address, long rows, long cols, int boxRows, int boxCols) {
    }

    private static final ConcurrentHashMap<Described, byte[]> ENCODED = new ConcurrentHashMap<>();
    private static final AtomicLong ENCODES = new AtomicLong();
    /** Where the driver writes a new map; encodes take turns on it (they are rare: the cache answers the rest). */
    private static final MemorySegment ENCODE_BUFFER = Arena.ofAuto().allocate(BYTES, ALIGNMENT);

    private TensorMaps() {
    }

    /**
     * The map of the row-major matrix {@code [rows, cols]} of {@code dtype} at address {@code address} on
     * {@code device} (rows contiguous, {@code cols·size} bytes apart) with boxes of {@code boxRows × boxCols}
     * elements laid out in shared memory with the 128-byte swizzle (so {@code boxCols·size} is 128 bytes); elements
     * outside the matrix read as zeros. The driver checks the rest: a 16-byte aligned address, a row pitch that is
     * a multiple of 16 bytes. The bytes returned are shared: the caller copies them ({@link KernelArgs#struct}).
     *
     * @param device the device whose context the map is encoded in
     * @param dtype F32, F16 or BF16
     * @param address the matrix's device address, 16-byte aligned
     * @param rows the rows, {@code > 0}
     * @param cols the columns, {@code > 0}
     * @param boxRows the box's rows
     * @param boxCols the box's columns, with {@code boxCols·size} 128 bytes
     * @return the {@link #BYTES} bytes of the map, shared: not to be modified
     * @throws IllegalArgumentException when the box row is not 128 bytes, the matrix is empty, or the dtype is an
     *     integer one
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver refuses the map (a misaligned address or pitch)
     */
    public static byte[] rowMajorSwizzled128(CudaDevice device, DType dtype, long address, long rows, long cols,
                                             int boxRows, int boxCols) {
        if (boxCols * dtype.byteSize() != 128) {
            throw new IllegalArgumentException("a 128-byte swizzled box row is 128 bytes, not " + boxCols + " x "
                    + dtype + " = " + boxCols * dtype.byteSize());
        }
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("a tensor map of an empty matrix [" + rows + ", " + cols + "]");
        }
        Described key = new Described(dtype, address, rows, cols, boxRows, boxCols);
        byte[] known = ENCODED.get(key);
        return known != null ? known : encode(device, key);
    }

    /** Encodes a map the cache does not hold, in the one native buffer encodes share, and caches it. */
    private static byte[] encode(CudaDevice device, Described d) {
        synchronized (ENCODE_BUFFER) {
            device.makeCurrent(); // cuTensorMapEncodeTiled needs a current context
            CudaDriver.tensorMapEncodeTiled(ENCODE_BUFFER, dataType(d.dtype()), d.address(),
                    new long[] {d.cols(), d.rows()}, new long[] {d.cols() * d.dtype().byteSize()},
                    new int[] {d.boxCols(), d.boxRows()}, CudaDriverApi.CU_TENSOR_MAP_SWIZZLE_128B,
                    CudaDriverApi.CU_TENSOR_MAP_L2_PROMOTION_L2_256B);
            ENCODES.incrementAndGet();
            byte[] map = ENCODE_BUFFER.toArray(ValueLayout.JAVA_BYTE);
            if (ENCODED.size() >= CACHED_MOST) {
                ENCODED.clear();
            }
            ENCODED.put(d, map);
            return map;
        }
    }

    /** How many maps the driver has encoded in this process (the rest were copies of one it had). */
    static long encodes() {
        return ENCODES.get();
    }

    private static int dataType(DType dtype) {
        return switch (dtype) {
            case F16 -> CudaDriverApi.CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
            case BF16 -> CudaDriverApi.CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
            case F32 -> CudaDriverApi.CU_TENSOR_MAP_DATA_TYPE_FLOAT32;
            default -> throw new IllegalArgumentException("no tensor map element type for " + dtype);
        };
    }
}
