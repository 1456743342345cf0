package io.tpkernels.runtime;

/**
 * The kernels queued on a stream since its last successful wait, by name, the latest {@link #CAPACITY} of them. A
 * kernel that traps (a device-side wait past its bound) or faults surfaces only at a later wait, or at a later launch,
 * as a status that names no kernel: this says which kernels it can have been. Adding a name stores a reference to a
 * string the kernel holds anyway, so a launch allocates nothing here. Not thread-safe: its stream guards it.
 */
final class QueuedKernels {
    /** How many names are kept. */
    static final int CAPACITY = 8;

    private final String[] names = new String[CAPACITY];
    private long queued;
    private long waited;

    /** A kernel was queued. */
    void add(String kernel) {
        names[(int) (queued++ % CAPACITY)] = kernel;
    }

    /** The launches so far, for {@link #waitedFor} once a wait that starts now has succeeded. */
    long mark() {
        return queued;
    }

    /** A wait that started at {@code mark} succeeded: those launches are done and no longer named. */
    void waitedFor(long mark) {
        waited = Math.max(waited, mark);
    }

    /**
     * Whether {@code status} is a fault of a kernel: a trap, an illegal or misaligned address or instruction, a
     * device-side assert, a watchdog timeout. CUDA reports it to the calls that follow, and the context stays unusable.
     */
    static boolean isKernelFault(int status) {
        return switch (status) {
            case 700, 702, 710, 714, 715, 716, 717, 718, 719 -> true; // CUDA_ERROR_ILLEGAL_ADDRESS .. LAUNCH_FAILED
            default -> false;
        };
    }

    /**
     * What a failed wait or launch with a {@linkplain #isKernelFault kernel fault} says: the kernels queued since the
     * last wait, oldest first, and then {@code launching} (the launch that failed, or {@code null}).
     */
    String describeFault(String launching) {
        StringBuilder s = new StringBuilder("a kernel trapped or faulted; kernels queued since the last wait: [");
        long from = Math.max(waited, queued - CAPACITY);
        if (from > waited) {
            s.append(from - waited).append(" earlier, ");
        }
        for (long i = from; i < queued; i++) {
            s.append(names[(int) (i % CAPACITY)]).append(", ");
        }
        if (launching != null) {
            s.append(launching);
        } else if (queued > from) {
            s.setLength(s.length() - 2);
        }
        return s.append(']').toString();
    }
}
