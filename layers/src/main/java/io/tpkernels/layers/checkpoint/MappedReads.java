package io.tpkernels.layers.checkpoint;

import io.tpkernels.layers.weights.TensorRead;
import io.tpkernels.runtime.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The reads in flight on one mapped file, and the release of the pages they are done with.
 *
 * <p>Why: a page of a mapping, once read, stays resident (counted in the process's resident set) until the file
 * is unmapped, beside the shard copied out of it; loading a model would hold it twice. So each copy reports its
 * progress, and the pages behind it are released ({@link MemorySegment#unload()}: {@code madvise(MADV_DONTNEED)},
 * which for a read-only file mapping only drops the process's mapping of them; they stay in the page cache).
 *
 * <p>A page is released once every read in flight whose span covers it has passed it: ranks copying disjoint
 * shards (rows) each release their own pages as they go, and pages several ranks read at once (the rows of a
 * column shard, a replicated tensor) go when the last of them has passed. A read that begins after a page went
 * finds it again in the page cache (a minor fault): that happens only to a rank that lags the others by a whole
 * tensor, or to a second copy of one tensor (a tied embedding in another pipeline stage).
 *
 * <p>Releasing never changes what is read: a dropped page is read again from the file if it is touched.
 */
final class MappedReads {
    /**
     * Pages are released in units of this many bytes of the file, at offsets that are multiples of it. A fault maps
     * more than the page it hits: 64 KiB around it, and since Linux 6.x all of a large folio of the page cache, up
     * to a PMD (2 MiB with 4 KiB pages), aligned in the file. Units as large as the largest folio, aligned as
     * folios are, keep the pages a fault maps within the unit it hit: a read in one unit never maps pages of
     * another that is still to be passed or was released.
     */
    static final long GRANULE = 2L << 20;

    private final MemorySegment mapping;
    /** Guarded by this. */
    private final List<Read> inFlight = new ArrayList<>();

    /** The reads of {@code mapping}, a whole file mapped from its first byte (a page boundary, as units are). */
    MappedReads(MemorySegment mapping) {
        this.mapping = mapping;
    }

    /**
     * Starts a read of {@code view}, which begins {@code viewStart} bytes into the mapping, over its bytes
     * {@code [first, end)}.
     */
    synchronized TensorRead open(Tensor view, long viewStart, long first, long end) {
        Read r = new Read(view, viewStart, viewStart + first, viewStart + end);
        inFlight.add(r);
        return r;
    }

    /** Drops the mapping's pages {@code [from, to)} now: for the header, once parsed, before any read begins. */
    synchronized void release(long from, long to) {
        unload(down(from), down(to));
    }

    /** Runs {@code close} (unmapping the file) with no release in progress. */
    synchronized void closing(Runnable close) {
        close.run();
    }

    private final class Read implements TensorRead {
        private final Tensor view;
        private final long viewStart;
        private final long start;
        private final long end;
        /** Guarded by MappedReads.this: the units before it are released, or were left to another read. */
        private long passed;
        private boolean closed;

        Read(Tensor view, long viewStart, long start, long end) {
            this.view = view;
            this.viewStart = viewStart;
            this.start = start;
            this.end = end;
            this.passed = down(start);
        }

        @Override
        public Tensor view() {
            return view;
        }

        @Override
        public void passed(long byteOffset) {
            synchronized (MappedReads.this) {
                // Only whole units: the one holding byteOffset may still be read.
                long to = down(Math.min(viewStart + byteOffset, end));
                if (closed || to <= passed) {
                    return;
                }
                long from = passed;
                passed = to;
                releaseUncovered(this, from, to);
            }
        }

        @Override
        public void close() {
            synchronized (MappedReads.this) {
                if (closed) {
                    return;
                }
                closed = true;
                inFlight.remove(this);
                // All of the span again: units passed while another read still covered them were left for now.
                releaseUncovered(this, down(start), up(end));
            }
        }
    }

    /** Releases {@code [from, to)} but the units that another read in flight has yet to pass. */
    private void releaseUncovered(Read r, long from, long to) {
        List<long[]> left = new ArrayList<>(List.of(new long[] {from, to}));
        for (Read o : inFlight) {
            if (o == r) {
                continue;
            }
            long keepFrom = o.passed;
            long keepTo = up(o.end);
            List<long[]> next = new ArrayList<>();
            for (long[] span : left) {
                if (span[0] < keepFrom) {
                    next.add(new long[] {span[0], Math.min(span[1], keepFrom)});
                }
                if (span[1] > keepTo) {
                    next.add(new long[] {Math.max(span[0], keepTo), span[1]});
                }
            }
            left = next;
        }
        left.forEach(span -> unload(span[0], span[1]));
    }

    private void unload(long from, long to) {
        if (to > from && mapping.scope().isAlive()) {
            mapping.asSlice(from, to - from).unload();
        }
    }

    /** {@code offset} (in the file) rounded down to a unit boundary. */
    private static long down(long offset) {
        return Math.floorDiv(offset, GRANULE) * GRANULE;
    }

    /** {@code offset} (in the file) rounded up to a unit boundary, within the mapping. */
    private long up(long offset) {
        return Math.min(mapping.byteSize(), Math.ceilDiv(offset, GRANULE) * GRANULE);
    }
}
