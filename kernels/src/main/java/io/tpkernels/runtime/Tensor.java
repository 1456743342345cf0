package io.tpkernels.runtime;

import io.tpkernels.ffm.cuda.CudaDriver;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A contiguous row-major tensor: shape, dtype, device, and a byte range of a {@link Memory}.
 *
 * <p>A tensor made by {@link #allocate} owns its memory: {@link #close()} frees it, and any later use of the
 * tensor or of its views is an {@link IllegalStateException}. Views ({@link #rows}, {@link #reshape}) and
 * wrappers ({@link #wrap}) share memory they do not own; closing them does nothing.
 *
 * <p>Use and close are exclusive. Every method here that reads or writes the elements, or hands them to the
 * driver, holds the memory open for the whole use (a {@link Memory.Access}), and {@link #close()} waits for the
 * uses in flight on any thread before it frees the memory; a use that begins after closing began is an
 * {@link IllegalStateException}. Views share their owner's count of uses. Code that takes {@link #devicePointer()}
 * or {@link #hostSegment()} for itself (a kernel launch, a native call, a loop over the segment) does the same
 * with {@link #acquire()} or {@link #acquireAll}:
 *
 * <pre>{@code
 * try (var use = Tensor.acquireAll(out, x, w)) {
 *     kernel.launch(stream, grid, block, 0, KernelArgs.begin().ptr(out.devicePointer()).ptr(x.devicePointer())...);
 * }
 * }</pre>
 *
 * An asynchronous use needs the access only until it is queued: freeing device memory waits for the work queued
 * on the device before it. A thread must not close a tensor while it holds an access to its memory.
 */
public final class Tensor implements AutoCloseable {
    private final DType dtype;
    private final long[] shape;
    private final long numel;
    private final Memory memory;
    private final long byteOffset;
    private final boolean owner;

    private Tensor(DType dtype, long[] shape, Memory memory, long byteOffset, boolean owner) {
        this.dtype = dtype;
        this.shape = shape;
        this.numel = numel(shape);
        this.memory = memory;
        this.byteOffset = byteOffset;
        this.owner = owner;
        if (byteOffset < 0 || byteOffset + byteSize() > memory.byteSize()) {
            throw new IllegalArgumentException("tensor " + describe() + " at byte " + byteOffset
                    + " does not fit in " + memory.byteSize() + " bytes of memory");
        }
    }

    // ---- creation

    /**
     * A new tensor owning fresh memory on {@code device}: zeroed on the host, unspecified on a GPU.
     *
     * @param device where the memory lives; a CUDA device's context is opened on first use
     * @param dtype the element type
     * @param shape the dimensions, each {@code >= 0}; none for a scalar
     * @return the tensor, which the caller owns and closes
     * @throws IllegalArgumentException when a dimension is negative, the element count overflows a {@code long}, or
     *     there is no such CUDA device
     * @throws IllegalStateException when the device is a GPU and the CUDA driver is not available
     * @throws io.tpkernels.ffm.cuda.CudaException when the device allocation fails (out of memory, say)
     */
    public static Tensor allocate(Device device, DType dtype, long... shape) {
        long[] s = checkedShape(shape);
        long bytes = Math.multiplyExact(numel(s), (long) dtype.byteSize());
        Memory memory = device.isCuda() ? CudaDevice.of(device).allocate(bytes) : HostMemory.allocate(bytes);
        return new Tensor(dtype, s, memory, 0, true);
    }

    /**
     * A new tensor on {@code context}'s device: on a GPU allocated in the order of its stream and freed in it when
     * closed (no host wait either way), unspecified until written; zeroed on the host.
     *
     * @param context the context whose device, and on a GPU whose stream, the memory belongs to
     * @param dtype the element type
     * @param shape the dimensions, each {@code >= 0}
     * @return the tensor, which the caller owns and closes; on a GPU usable by work queued on {@code context}'s stream
     *     (work on other streams must be ordered after it by an event)
     * @throws IllegalArgumentException when a dimension is negative or the element count overflows a {@code long}
     * @throws io.tpkernels.ffm.cuda.CudaException when the stream-ordered allocation fails
     */
    public static Tensor allocate(ExecutionContext context, DType dtype, long... shape) {
        if (!context.isCuda()) {
            return allocate(Device.CPU, dtype, shape);
        }
        long[] s = checkedShape(shape);
        long bytes = Math.multiplyExact(numel(s), (long) dtype.byteSize());
        return new Tensor(dtype, s, DeviceBuffer.allocate(context.stream(), bytes), 0, true);
    }

    /**
     * A new tensor of zeros on {@code context}'s device, zeroed in its stream's order.
     *
     * @param context the context whose device and stream the tensor belongs to
     * @param dtype the element type
     * @param shape the dimensions, each {@code >= 0}
     * @return the tensor, which the caller owns and closes; on a GPU its zeros are queued, not yet written
     * @throws IllegalArgumentException when a dimension is negative or the element count overflows a {@code long}
     * @throws io.tpkernels.ffm.cuda.CudaException when the allocation or the queued fill fails
     */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    public static Tensor zeros(ExecutionContext context, DType dtype, long... shape) {
        Tensor t = allocate(context, dtype, shape);
        if (context.isCuda()) {
            try (Memory.Access use = t.acquire()) {
                CudaDriver.memsetD8Async(t.heldPointer(), (byte) 0, t.byteSize(), context.stream().handle());
            } catch (RuntimeException e) {
                t.close();
                throw e;
            }
        }
        return t;
    }

    /** Marks this tensor's memory as written by {@code context}'s queued work (see {@link ExecutionContext#wrote}). */
    void writtenBy(ExecutionContext context) {
        if (memory instanceof DeviceBuffer buffer) {
            buffer.writtenBy(context);
        }
    }

    /**
     * A new tensor of zeros on {@code device}.
     *
     * @param device where the memory lives
     * @param dtype the element type
     * @param shape the dimensions, each {@code >= 0}
     * @return the tensor, which the caller owns and closes; on a GPU filled before this returns
     * @throws IllegalArgumentException when a dimension is negative or the element count overflows a {@code long}
     * @throws io.tpkernels.ffm.cuda.CudaException when the allocation or the fill fails
     */
    public static Tensor zeros(Device device, DType dtype, long... shape) {
        Tensor t = allocate(device, dtype, shape);
        if (device.isCuda()) {
            t.fillBytes((byte) 0);
        }
        return t;
    }

    /**
     * A host tensor with these values, rounded to {@code dtype}.
     *
     * @param dtype the element type the values are rounded to (integer dtypes truncate toward zero)
     * @param values the elements in row-major order
     * @param shape the dimensions; their product must be {@code values.length}
     * @return a new host tensor, which the caller owns and closes
     * @throws IllegalArgumentException when the shape does not hold exactly {@code values.length} elements
     */
    public static Tensor ofFloats(DType dtype, float[] values, long... shape) {
        return hostFilled(dtype, values.length, shape, (s, i) -> dtype.setFloat(s, i, values[i]));
    }

    /**
     * A host integer tensor (I32 or I64) with these values.
     *
     * @param dtype I32 or I64
     * @param values the elements in row-major order
     * @param shape the dimensions; their product must be {@code values.length}
     * @return a new host tensor, which the caller owns and closes
     * @throws IllegalArgumentException when {@code dtype} is a floating-point one, a value does not fit in I32, or the
     *     shape does not hold exactly {@code values.length} elements
     */
    public static Tensor ofLongs(DType dtype, long[] values, long... shape) {
        if (dtype.isFloatingPoint()) {
            throw new IllegalArgumentException("ofLongs needs I32 or I64, not " + dtype);
        }
        return hostFilled(dtype, values.length, shape, (s, i) -> dtype.setLong(s, i, values[i]));
    }

    private interface ElementWriter {
        void write(MemorySegment segment, int index);
    }

    private static Tensor hostFilled(DType dtype, int count, long[] shape, ElementWriter writer) {
        Tensor t = allocate(Device.CPU, dtype, shape);
        try {
            if (count != t.numel) {
                throw new IllegalArgumentException(count + " values for shape " + Arrays.toString(shape));
            }
            MemorySegment s = t.heldSegment(); // t is not shared yet
            for (int i = 0; i < count; i++) {
                writer.write(s, i);
            }
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /**
     * A tensor over {@code memory} (host or device) owned elsewhere, starting at {@code byteOffset}: no copy, and
     * closing the tensor frees nothing. The memory's owner must outlive the tensor's use.
     *
     * @param memory the memory to view, host or device; its owner must keep it open while the view is used
     * @param byteOffset where the first element is, in bytes from the start of {@code memory}
     * @param dtype the element type
     * @param shape the dimensions, each {@code >= 0}
     * @return a view that frees nothing when closed
     * @throws IllegalArgumentException when a dimension is negative, or the elements do not fit in {@code memory} from
     *     {@code byteOffset} on
     */
    public static Tensor view(Memory memory, long byteOffset, DType dtype, long... shape) {
        return new Tensor(dtype, checkedShape(shape), memory, byteOffset, false);
    }

    /**
     * A host tensor over memory owned elsewhere (a mapped file): no copy, and closing it frees nothing.
     *
     * @param segment host memory of at least the shape's bytes; its owner keeps it alive while the tensor is used
     * @param dtype the element type
     * @param shape the dimensions, each {@code >= 0}
     * @return a host tensor over {@code segment}, freeing nothing when closed
     * @throws IllegalArgumentException when a dimension is negative or {@code segment} is smaller than the shape's
     *     bytes
     */
    public static Tensor wrap(MemorySegment segment, DType dtype, long... shape) {
        return new Tensor(dtype, checkedShape(shape), HostMemory.wrap(segment), 0, false);
    }

    // ---- properties

    /**
     * The element type.
     *
     * @return the dtype
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * Where the tensor's memory lives.
     *
     * @return {@link Device#CPU} or the CUDA device
     */
    public Device device() {
        return memory.device();
    }

    /**
     * A copy of the shape.
     *
     * @return the dimensions, outermost first; changing the array does not change the tensor
     */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Size of dimension {@code d} (negative counts from the end).
     *
     * @param d the dimension, in {@code [-rank(), rank())}
     * @return its size
     * @throws IllegalArgumentException when {@code d} is out of range
     */
    public long dim(int d) {
        int i = d < 0 ? shape.length + d : d;
        if (i < 0 || i >= shape.length) {
            throw new IllegalArgumentException("dimension " + d + " of a rank-" + shape.length + " tensor");
        }
        return shape[i];
    }

    /**
     * The number of dimensions: 0 for a scalar.
     *
     * @return the shape's length
     */
    public int rank() {
        return shape.length;
    }

    /**
     * Number of elements.
     *
     * @return the product of the shape (1 for a scalar)
     */
    public long numel() {
        return numel;
    }

    /**
     * Bytes of its elements.
     *
     * @return {@link #numel()} times the dtype's size
     */
    public long byteSize() {
        return numel * dtype.byteSize();
    }

    /**
     * Whether its memory is still open: false once closing began.
     *
     * @return {@code false} once {@link #close()} of its owner began, or memory owned elsewhere was closed
     */
    public boolean isOpen() {
        return memory.isOpen();
    }

    /**
     * "[2, 3] BF16 on cuda:0", for messages.
     *
     * @return the shape, dtype and device, as {@code "[2, 3] BF16 on cuda:0"}
     */
    public String describe() {
        return Arrays.toString(shape) + " " + dtype + " on " + memory.device();
    }

    @Override
    public String toString() {
        return "Tensor" + describe();
    }

    // ---- memory access

    /**
     * Holds this tensor's memory open until the returned access is closed: a {@link #close()} of the owner (on any
     * thread) waits for it before freeing the memory. Hold it from before {@link #devicePointer()} or
     * {@link #hostSegment()} is read until the memory's use (a copy, a native call, a queued launch) is done. The
     * access belongs to this thread; close it once (a second close does nothing).
     *
     * @return the access, to close (with try-with-resources) when the use is done
     * @throws IllegalStateException when the memory was closed, or closing began: the tensor was used after close
     */
    public Memory.Access acquire() {
        try {
            return memory.acquire();
        } catch (IllegalStateException e) {
            throw new IllegalStateException(closedMessage(), e);
        }
    }

    /**
     * Holds the memory of every tensor given open, as {@link #acquire()} does for one; {@code null}s are skipped
     * (optional operands), and a tensor may appear more than once. When one fails, those already acquired are
     * released before the exception.
     *
     * @param tensors the tensors to hold open; {@code null} entries are skipped
     * @return one access that releases all of them, in reverse order, when closed
     * @throws IllegalStateException when one of them was used after close
     */
    public static Memory.Access acquireAll(Tensor... tensors) {
        Memory.Access[] held = new Memory.Access[tensors.length];
        int n = 0;
        try {
            for (Tensor t : tensors) {
                if (t != null) {
                    Memory.Access access = t.acquire();
                    held[n++] = access;
                }
            }
        } catch (RuntimeException e) {
            releaseAll(held, n);
            throw e;
        }
        int count = n;
        return new Memory.Access() {
            private boolean closed;

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    releaseAll(held, count);
                }
            }
        };
    }

    private static void releaseAll(Memory.Access[] held, int n) {
        for (int i = n - 1; i >= 0; i--) {
            held[i].close();
        }
    }

    /**
     * The host memory of the elements. The segment is usable until the memory is freed; to keep a concurrent
     * {@link #close()} from freeing it during a use, hold an {@link #acquire() access} around the use.
     *
     * @return the elements' bytes, a slice of the owner's segment
     * @throws IllegalStateException when the tensor is not in host memory, or its memory was freed
     */
    public MemorySegment hostSegment() {
        if (!(memory instanceof HostMemory)) {
            throw new IllegalStateException("tensor " + describe() + " is not in host memory");
        }
        return heldSegment();
    }

    /**
     * The device pointer to the first element. It is valid until the memory is freed; to keep a concurrent
     * {@link #close()} from freeing it before the driver is done with it, read it and use it while holding an
     * {@link #acquire() access}.
     *
     * @return the address of the first element on its device
     * @throws IllegalStateException when the tensor is not in device memory, or its memory was freed
     */
    public long devicePointer() {
        if (!(memory instanceof DeviceBuffer)) {
            throw new IllegalStateException("tensor " + describe() + " is not in device memory");
        }
        return heldPointer();
    }

    /** The host segment of a host tensor, for a use under an access (or of memory not yet shared). */
    private MemorySegment heldSegment() {
        try {
            return ((HostMemory) memory).segment().asSlice(byteOffset, byteSize());
        } catch (IllegalStateException e) {
            throw new IllegalStateException(closedMessage(), e);
        }
    }

    /** The device pointer of a device tensor, for a use under an access. */
    private long heldPointer() {
        try {
            return ((DeviceBuffer) memory).pointer() + byteOffset;
        } catch (IllegalStateException e) {
            throw new IllegalStateException(closedMessage(), e);
        }
    }

    /**
     * The CUDA device holding this tensor.
     *
     * @return the device whose context and allocations hold the memory
     * @throws IllegalStateException when the tensor is in host memory
     */
    public CudaDevice cudaDevice() {
        if (!(memory instanceof DeviceBuffer buffer)) {
            throw new IllegalStateException("tensor " + describe() + " is not in device memory");
        }
        return buffer.cudaDevice();
    }

    private void requireOpen() {
        if (!memory.isOpen()) {
            throw new IllegalStateException(closedMessage());
        }
    }

    private String closedMessage() {
        return "tensor " + describe() + " was used after its memory was closed";
    }

    // ---- views

    /**
     * Rows {@code [from, to)} along dimension 0, sharing memory (no copy).
     *
     * @param from the first row, {@code >= 0}
     * @param to one past the last row, in {@code [from, dim(0)]}
     * @return a view of those rows, freeing nothing when closed; valid while the owner is open
     * @throws IllegalArgumentException when the tensor is a scalar or the range is out of bounds
     * @throws IllegalStateException when the tensor was closed
     */
    public Tensor rows(long from, long to) {
        if (shape.length == 0) {
            throw new IllegalArgumentException("rows of a scalar tensor " + describe());
        }
        if (from < 0 || to < from || to > shape[0]) {
            throw new IllegalArgumentException("rows [" + from + ", " + to + ") of tensor " + describe());
        }
        requireOpen();
        long[] s = shape.clone();
        s[0] = to - from;
        long rowBytes = shape[0] == 0 ? 0 : byteSize() / shape[0];
        return new Tensor(dtype, s, memory, byteOffset + from * rowBytes, false);
    }

    /**
     * The same elements under another shape with as many elements (no copy).
     *
     * @param newShape the new dimensions, each {@code >= 0}, with as many elements in all
     * @return a view, freeing nothing when closed
     * @throws IllegalArgumentException when the element counts differ or a dimension is negative
     * @throws IllegalStateException when the tensor was closed
     */
    public Tensor reshape(long... newShape) {
        long[] s = checkedShape(newShape);
        if (numel(s) != numel) {
            throw new IllegalArgumentException("cannot reshape " + describe() + " to " + Arrays.toString(newShape));
        }
        requireOpen();
        return new Tensor(dtype, s, memory, byteOffset, false);
    }

    /**
     * This tensor's bytes from {@code byteOffset} on, read as {@code dtype} of {@code shape} (no copy): the same
     * memory reinterpreted, as torch's {@code view(dtype)}. Several results packed into one tensor travel in one
     * collective this way.
     *
     * @param byteOffset where the view starts, in bytes from this tensor's first element; a multiple of {@code dtype}'s
     *     size
     * @param dtype the element type to read the bytes as
     * @param shape the view's dimensions; its bytes must fit in what is left of this tensor from {@code byteOffset}
     * @return a view, freeing nothing when closed
     * @throws IllegalArgumentException when the offset is negative or misaligned, or the view does not fit
     * @throws IllegalStateException when the tensor was closed
     */
    public Tensor viewBytes(long byteOffset, DType dtype, long... shape) {
        long[] s = checkedShape(shape);
        long bytes = numel(s) * dtype.byteSize();
        if (byteOffset < 0 || byteOffset % dtype.byteSize() != 0 || byteOffset > byteSize()
                || bytes > byteSize() - byteOffset) {
            throw new IllegalArgumentException("cannot view bytes [" + byteOffset + ", " + byteOffset + " + " + bytes
                    + ") of " + describe() + " as " + dtype + " " + Arrays.toString(shape));
        }
        requireOpen();
        return new Tensor(dtype, s, memory, this.byteOffset + byteOffset, false);
    }

    // ---- copies

    /**
     * A copy on {@code target}, owning its memory.
     *
     * @param target the device to copy to
     * @return a new tensor of the same shape and dtype, which the caller owns and closes
     * @throws IllegalStateException when this tensor was closed
     * @throws io.tpkernels.ffm.cuda.CudaException when the allocation or the copy fails
     */
    public Tensor copyTo(Device target) {
        Tensor t = allocate(target, dtype, shape);
        try {
            t.copyFrom(this);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    /**
     * Copies {@code src} (same shape and dtype, any device) into this tensor; returns when done. A source that is a
     * mapped file travels to a device through a bounded host buffer, never read by the driver in place: a file cut
     * short while mapped is then the JVM's {@link InternalError} from this call, not a crash of the process.
     *
     * @param src the tensor to copy, of this tensor's shape and dtype, on any device
     * @throws IllegalArgumentException when the shapes or dtypes differ, or (copying a device tensor to the host) a
     *     deferred device check of the context that wrote {@code src} fails, such as a bad token id
     * @throws IllegalStateException when either tensor was closed
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver fails the copy
     */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    public void copyFrom(Tensor src) {
        checkSameLayout(src, "copyFrom");
        long bytes = byteSize();
        if (bytes == 0) {
            return;
        }
        boolean toDevice = memory instanceof DeviceBuffer;
        boolean fromDevice = src.memory instanceof DeviceBuffer;
        if (toDevice && fromDevice && cudaDevice() != src.cudaDevice()) {
            // Between two devices: staged through the host (peer copies are not bound yet).
            try (Tensor staging = src.copyTo(Device.CPU)) {
                copyFrom(staging);
            }
            return;
        }
        try (Memory.Access d = acquire(); Memory.Access s = src.acquire()) {
            if (!toDevice && !fromDevice) {
                MemorySegment.copy(src.heldSegment(), 0, heldSegment(), 0, bytes);
            } else if (toDevice && !fromDevice) {
                cudaDevice().makeCurrent();
                MemorySegment source = src.heldSegment();
                if (source.isMapped()) {
                    MappedStaging.toDevice(cudaDevice(), heldPointer(), source, null);
                } else {
                    CudaDriver.memcpyHtoD(heldPointer(), source, bytes);
                }
            } else if (!toDevice) {
                ((DeviceBuffer) src.memory).verifyWriter(); // a device check on the source's inputs throws first
                src.cudaDevice().makeCurrent();
                CudaDriver.memcpyDtoH(heldSegment(), src.heldPointer(), bytes);
            } else {
                cudaDevice().makeCurrent();
                CudaDriver.memcpyDtoD(heldPointer(), src.heldPointer(), bytes);
                ExecutionContext writer = ((DeviceBuffer) src.memory).writer();
                if (writer != null) {
                    writtenBy(writer);
                }
            }
        }
    }

    /**
     * Queues a copy of {@code src} into this tensor on {@code stream}. Host memory involved must stay open
     * until the stream has passed the copy; host-to-host copies run at once, and so does a copy from a mapped
     * file (staged as in {@link #copyFrom}). Both tensors are held open until the copy is queued.
     *
     * @param src the tensor to copy, of this tensor's shape and dtype
     * @param stream the stream to queue the copy on; its device must be the device tensor's
     * @throws IllegalArgumentException when the shapes or dtypes differ
     * @throws IllegalStateException when either tensor was closed
     * @throws io.tpkernels.ffm.cuda.CudaException when the driver refuses the copy
     */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    public void copyFromAsync(Tensor src, CudaStream stream) {
        checkSameLayout(src, "copyFromAsync");
        long bytes = byteSize();
        if (bytes == 0) {
            return;
        }
        boolean toDevice = memory instanceof DeviceBuffer;
        boolean fromDevice = src.memory instanceof DeviceBuffer;
        stream.device().makeCurrent();
        try (Memory.Access d = acquire(); Memory.Access s = src.acquire()) {
            if (!toDevice && !fromDevice) {
                MemorySegment.copy(src.heldSegment(), 0, heldSegment(), 0, bytes);
            } else if (toDevice && !fromDevice) {
                MemorySegment source = src.heldSegment();
                if (source.isMapped()) {
                    MappedStaging.toDevice(stream.device(), heldPointer(), source, stream);
                } else {
                    CudaDriver.memcpyHtoDAsync(heldPointer(), source, bytes, stream.handle());
                }
            } else if (!toDevice) {
                CudaDriver.memcpyDtoHAsync(heldSegment(), src.heldPointer(), bytes, stream.handle());
            } else {
                CudaDriver.memcpyDtoDAsync(heldPointer(), src.heldPointer(), bytes, stream.handle());
            }
        }
    }

    /**
     * Sets every byte of this tensor to {@code value} in {@code context}'s stream order: queued after the work
     * already queued there (which may still read the old bytes), with no host wait; at once on the host.
     *
     * @param context the context whose stream orders the fill; it must be on this tensor's device when that is a GPU
     * @param value the byte to write
     * @throws IllegalArgumentException when a device tensor is not on {@code context}'s device
     * @throws IllegalStateException when the tensor was closed
     */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    public void fillBytes(ExecutionContext context, byte value) {
        if (!(memory instanceof DeviceBuffer)) {
            fillBytes(value);
            return;
        }
        context.requireOn("fillBytes", this);
        try (Memory.Access use = acquire()) {
            context.stream().device().makeCurrent();
            CudaDriver.memsetD8Async(heldPointer(), value, byteSize(), context.stream().handle());
        }
        writtenBy(context);
    }

    /**
     * Sets every byte of this tensor to {@code value} (0xFF poisons a float tensor with NaNs); returns when done.
     *
     * @param value the byte to write
     * @throws IllegalStateException when the tensor was closed
     */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    public void fillBytes(byte value) {
        try (Memory.Access use = acquire()) {
            if (memory instanceof DeviceBuffer) {
                cudaDevice().makeCurrent();
                CudaDriver.memsetD8(heldPointer(), value, byteSize());
            } else {
                heldSegment().fill(value);
            }
        }
    }

    /**
     * The elements as floats, copied to the host if needed.
     *
     * @return the elements in row-major order, converted as {@link DType#getFloat} does
     * @throws IllegalStateException when the tensor was closed or has more elements than a Java array holds
     * @throws IllegalArgumentException when a deferred device check of the context that wrote the tensor fails
     */
    @SuppressWarnings("try") // an access held by try-with-resources, not named in its body
    public float[] toFloatArray() {
        if (numel > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("tensor " + describe() + " is too large for a Java array");
        }
        if (device().isCuda()) {
            try (Tensor host = copyTo(Device.CPU)) {
                return host.toFloatArray();
            }
        }
        try (Memory.Access use = acquire()) {
            MemorySegment s = heldSegment();
            float[] out = new float[(int) numel];
            for (int i = 0; i < out.length; i++) {
                out[i] = dtype.getFloat(s, i);
            }
            return out;
        }
    }

    /**
     * Frees the memory if this tensor owns it, once the uses in flight on other threads are done (later uses, of
     * the tensor or its views, fail at once); does nothing for views and wrappers. Closing twice is harmless.
     */
    @Override
    public void close() {
        if (owner) {
            memory.close();
        }
    }

    /**
     * Closes this tensor, freeing memory that was allocated in stream order ({@link #allocate(ExecutionContext,
     * DType, long...)}) in {@code context}'s stream order rather than its allocating context's: for a tensor whose
     * last use was queued on another context, ordered after the allocating one by an event.
     *
     * @param context the context on whose stream the memory is freed, after the work queued there so far
     */
    public void closeOn(ExecutionContext context) {
        if (owner && memory instanceof DeviceBuffer buffer && context.isCuda()) {
            buffer.closeOn(context.stream());
        } else {
            close();
        }
    }

    private void checkSameLayout(Tensor src, String op) {
        if (src.dtype != dtype || !Arrays.equals(src.shape, shape)) {
            throw new IllegalArgumentException(op + ": source " + src.describe() + " and destination " + describe()
                    + " differ in shape or dtype");
        }
    }

    private static long[] checkedShape(long[] shape) {
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
        }
        numel(shape); // overflow check
        return shape.clone();
    }

    private static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than 2^63 elements");
            }
        }
        return n;
    }
}
