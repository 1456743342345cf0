package io.tpkernels.ffm.nvrtc;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.tpkernels.ffm.CConstant;
import io.tpkernels.ffm.LibraryName;
import io.tpkernels.ffm.NativeLibrary;
import io.tpkernels.ffm.OutParams;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;

/**
 * NVRTC, the CUDA runtime compiler, through FFM: compiles CUDA C++ source to PTX when no packaged PTX
 * fits the device or the driver rejects the packaged one.
 */
public final class Nvrtc {
    private Nvrtc() {
    }

    private static final NativeLibrary LIB = NativeLibrary.load(LibraryName.NVRTC);

    private static final MethodHandle nvrtcVersion = LIB.downcall(NvrtcApi.nvrtcVersion);
    private static final MethodHandle nvrtcGetErrorString = LIB.downcall(NvrtcApi.nvrtcGetErrorString);
    private static final MethodHandle nvrtcCreateProgram = LIB.downcall(NvrtcApi.nvrtcCreateProgram);
    private static final MethodHandle nvrtcDestroyProgram = LIB.downcall(NvrtcApi.nvrtcDestroyProgram);
    private static final MethodHandle nvrtcCompileProgram = LIB.downcall(NvrtcApi.nvrtcCompileProgram);
    private static final MethodHandle nvrtcGetPTXSize = LIB.downcall(NvrtcApi.nvrtcGetPTXSize);
    private static final MethodHandle nvrtcGetPTX = LIB.downcall(NvrtcApi.nvrtcGetPTX);
    private static final MethodHandle nvrtcGetProgramLogSize = LIB.downcall(NvrtcApi.nvrtcGetProgramLogSize);
    private static final MethodHandle nvrtcGetProgramLog = LIB.downcall(NvrtcApi.nvrtcGetProgramLog);

    /**
     * The library as loaded (or why not).
     *
     * @return the library, loaded or not
     */
    public static NativeLibrary library() {
        return LIB;
    }

    /**
     * Whether NVRTC was loaded.
     *
     * @return {@code true} when NVRTC can be used
     */
    public static boolean isAvailable() {
        return LIB.isLoaded();
    }

    /**
     * {@code nvrtcVersion}: {@code {major, minor}}.
     *
     * @return two numbers: the major version, then the minor
     * @throws NvrtcException when NVRTC returns an error
     */
    public static int[] version() {
        MemorySegment out = OutParams.get();
        try {
            check((int) nvrtcVersion.invokeExact(out, out.asSlice(4)), "nvrtcVersion()");
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
        return new int[] {out.get(JAVA_INT, 0), out.get(JAVA_INT, 4)};
    }

    /**
     * The symbolic name of an {@code nvrtcResult}.
     *
     * @param status an {@code nvrtcResult}
     * @return its name, or {@code NVRTC_ERROR_<n>} for one the table does not know
     */
    public static String resultName(int status) {
        for (CConstant c : NvrtcApi.RESULTS) {
            if (c.value() == status) {
                return c.name();
            }
        }
        return "NVRTC_ERROR_" + status;
    }

    private static String description(int status) {
        try {
            MemorySegment s = (MemorySegment) nvrtcGetErrorString.invokeExact(status);
            return s.equals(MemorySegment.NULL) ? "" : s.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "";
        }
    }

    private static void check(int status, String call) {
        if (status != 0) {
            throw new NvrtcException(status, call, description(status));
        }
    }

    /**
     * Compiles {@code source} to PTX.
     *
     * @param source  the CUDA C++ source
     * @param name    the file name shown in diagnostics
     * @param headers headers the source may {@code #include}, by include name
     * @param options compiler options, e.g. {@code --gpu-architecture=compute_90}
     * @return the PTX text
     * @throws NvrtcException with the compiler's log when compilation fails
     */
    public static String compile(String source, String name, Map<String, String> headers, List<String> options) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment programOut = arena.allocate(ADDRESS);
            MemorySegment headerSources = strings(arena, headers.values().toArray(String[]::new));
            MemorySegment headerNames = strings(arena, headers.keySet().toArray(String[]::new));
            check((int) nvrtcCreateProgram.invokeExact(programOut, arena.allocateFrom(source), arena.allocateFrom(name),
                    headers.size(), headerSources, headerNames), "nvrtcCreateProgram(name=" + name + ")");
            MemorySegment program = programOut.get(ADDRESS, 0);
            try {
                int s = (int) nvrtcCompileProgram.invokeExact(program, options.size(),
                        strings(arena, options.toArray(String[]::new)));
                if (s != 0) {
                    throw new NvrtcException(s, "nvrtcCompileProgram(name=" + name + ", options=" + options + ")",
                            log(arena, program));
                }
                MemorySegment size = arena.allocate(JAVA_LONG);
                check((int) nvrtcGetPTXSize.invokeExact(program, size), "nvrtcGetPTXSize(name=" + name + ")");
                MemorySegment ptx = arena.allocate(size.get(JAVA_LONG, 0));
                check((int) nvrtcGetPTX.invokeExact(program, ptx), "nvrtcGetPTX(name=" + name + ")");
                return ptx.getString(0);
            } finally {
                int ignored = (int) nvrtcDestroyProgram.invokeExact(programOut);
            }
        } catch (Throwable t) {
            throw OutParams.rethrow(t);
        }
    }

    private static String log(Arena arena, MemorySegment program) throws Throwable {
        MemorySegment size = arena.allocate(JAVA_LONG);
        if ((int) nvrtcGetProgramLogSize.invokeExact(program, size) != 0) {
            return "";
        }
        MemorySegment text = arena.allocate(Math.max(1, size.get(JAVA_LONG, 0)));
        if ((int) nvrtcGetProgramLog.invokeExact(program, text) != 0) {
            return "";
        }
        return text.getString(0);
    }

    private static MemorySegment strings(Arena arena, String[] values) {
        if (values.length == 0) {
            return MemorySegment.NULL;
        }
        MemorySegment array = arena.allocate(ADDRESS, values.length);
        for (int i = 0; i < values.length; i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(values[i]));
        }
        return array;
    }
}
