package io.tpkernels.ffm.nvrtc;

import static io.tpkernels.ffm.CType.CHAR_PTR;
import static io.tpkernels.ffm.CType.CONST_CHAR_PTR;
import static io.tpkernels.ffm.CType.INT;

import io.tpkernels.ffm.CConstant;
import io.tpkernels.ffm.CFunction;
import io.tpkernels.ffm.CType;
import java.util.List;

/** NVRTC as this project uses it, declared in C terms; the signature test compiles it against {@code nvrtc.h}. */
public final class NvrtcApi {
    private NvrtcApi() {
    }

    static final CType NVRTC_RESULT = CType.int32("nvrtcResult");
    static final CType NVRTC_PROGRAM = CType.pointer("nvrtcProgram");
    static final CType NVRTC_PROGRAM_PTR = CType.pointer("nvrtcProgram *");
    static final CType INT_PTR = CType.pointer("int *");
    static final CType SIZE_T_PTR = CType.pointer("size_t *");
    static final CType STRING_ARRAY = CType.pointer("const char * const *");

    /** NVRTC's version. */
    public static final CFunction nvrtcVersion = CFunction.of("nvrtcVersion", NVRTC_RESULT, INT_PTR, INT_PTR);
    /** The description of an {@code nvrtcResult}. */
    public static final CFunction nvrtcGetErrorString = CFunction.of("nvrtcGetErrorString", CONST_CHAR_PTR, NVRTC_RESULT);
    /** Creates a program from a source and its headers. */
    public static final CFunction nvrtcCreateProgram = CFunction.of("nvrtcCreateProgram", NVRTC_RESULT,
            NVRTC_PROGRAM_PTR, CONST_CHAR_PTR, CONST_CHAR_PTR, INT, STRING_ARRAY, STRING_ARRAY);
    /** Destroys a program. */
    public static final CFunction nvrtcDestroyProgram = CFunction.of("nvrtcDestroyProgram", NVRTC_RESULT, NVRTC_PROGRAM_PTR);
    /** Compiles a program with options. */
    public static final CFunction nvrtcCompileProgram =
            CFunction.of("nvrtcCompileProgram", NVRTC_RESULT, NVRTC_PROGRAM, INT, STRING_ARRAY);
    /** The size of a compiled program's PTX, its NUL included. */
    public static final CFunction nvrtcGetPTXSize = CFunction.of("nvrtcGetPTXSize", NVRTC_RESULT, NVRTC_PROGRAM, SIZE_T_PTR);
    /** Copies a compiled program's PTX. */
    public static final CFunction nvrtcGetPTX = CFunction.of("nvrtcGetPTX", NVRTC_RESULT, NVRTC_PROGRAM, CHAR_PTR);
    /** The size of a compilation's log, its NUL included. */
    public static final CFunction nvrtcGetProgramLogSize =
            CFunction.of("nvrtcGetProgramLogSize", NVRTC_RESULT, NVRTC_PROGRAM, SIZE_T_PTR);
    /** Copies a compilation's log. */
    public static final CFunction nvrtcGetProgramLog = CFunction.of("nvrtcGetProgramLog", NVRTC_RESULT, NVRTC_PROGRAM, CHAR_PTR);

    /** Every function bound. */
    public static final List<CFunction> FUNCTIONS = List.of(nvrtcVersion, nvrtcGetErrorString, nvrtcCreateProgram,
            nvrtcDestroyProgram, nvrtcCompileProgram, nvrtcGetPTXSize, nvrtcGetPTX, nvrtcGetProgramLogSize,
            nvrtcGetProgramLog);

    /** Every {@code nvrtcResult} this binding names. */
    public static final List<CConstant> RESULTS = List.of(
            new CConstant("NVRTC_SUCCESS", 0),
            new CConstant("NVRTC_ERROR_OUT_OF_MEMORY", 1),
            new CConstant("NVRTC_ERROR_PROGRAM_CREATION_FAILURE", 2),
            new CConstant("NVRTC_ERROR_INVALID_INPUT", 3),
            new CConstant("NVRTC_ERROR_INVALID_PROGRAM", 4),
            new CConstant("NVRTC_ERROR_INVALID_OPTION", 5),
            new CConstant("NVRTC_ERROR_COMPILATION", 6),
            new CConstant("NVRTC_ERROR_BUILTIN_OPERATION_FAILURE", 7),
            new CConstant("NVRTC_ERROR_NO_NAME_EXPRESSIONS_AFTER_COMPILATION", 8),
            new CConstant("NVRTC_ERROR_NO_LOWERED_NAMES_BEFORE_COMPILATION", 9),
            new CConstant("NVRTC_ERROR_NAME_EXPRESSION_NOT_VALID", 10),
            new CConstant("NVRTC_ERROR_INTERNAL_ERROR", 11));
}
