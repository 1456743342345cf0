package io.tpkernels.bench;

import io.tpkernels.ffm.cuda.CudaDriver;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The CPU emulator's counts so far: kernel launches and host waits (calls that return only once the device is
 * done), read in the process through {@code tpk_emu_counts}, which the emulator's driver exports beside the CUDA
 * API. Two readings around an operation count the driver calls it makes, which a timing alone cannot tell apart
 * from the Java work around them. A GPU's driver has no such export: there {@link #now()} is empty.
 */
record EmulatorCounts(long launches, long hostWaits) {
    private static final Optional<MethodHandle> READ = lookUp();

    /** The counts now, or empty where the loaded CUDA driver is not the emulator's. */
    static Optional<EmulatorCounts> now() {
        return READ.map(EmulatorCounts::read);
    }

    /** What was counted since {@code earlier}. */
    EmulatorCounts minus(EmulatorCounts earlier) {
        return new EmulatorCounts(launches - earlier.launches, hostWaits - earlier.hostWaits);
    }

    private static Optional<MethodHandle> lookUp() {
        try {
            return CudaDriver.library().location()
                    .flatMap(driver -> SymbolLookup.libraryLookup(Path.of(driver), Arena.global())
                            .find("tpk_emu_counts"))
                    .map(symbol -> Linker.nativeLinker().downcallHandle(symbol,
                            FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS)));
        } catch (IllegalArgumentException e) { // a location the loader resolved by name alone: not the emulator
            return Optional.empty();
        }
    }

    private static EmulatorCounts read(MethodHandle handle) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment launches = arena.allocate(ValueLayout.JAVA_LONG);
            MemorySegment waits = arena.allocate(ValueLayout.JAVA_LONG);
            handle.invokeExact(launches, waits);
            return new EmulatorCounts(launches.get(ValueLayout.JAVA_LONG, 0), waits.get(ValueLayout.JAVA_LONG, 0));
        } catch (Throwable t) {
            throw new IllegalStateException("tpk_emu_counts failed", t);
        }
    }
}
