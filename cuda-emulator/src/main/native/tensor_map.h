/* tensor_map.h: the emulator's CUtensorMap. cuTensorMapEncodeTiled (driver.c) checks its arguments against the
 * rules cuda.h documents for it and stores them in the map's 128 opaque bytes in the layout below; the emulated
 * TMA (device_sm90.cpp) reads them back, and the emulator's self-test encodes its maps with it too.
 *
 * C11 and C++17, header-only, without cuda.h (the device is compiled without the toolkit's headers): the enum
 * values are cuda.h's, and driver.c checks at compile time that they still are. A GPU's encoding is opaque and
 * different; nothing but this emulator reads these bytes.
 */
#ifndef TPK_TENSOR_MAP_H
#define TPK_TENSOR_MAP_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* cuda.h: CUtensorMapDataType */
enum {
    TPK_TMAP_UINT8 = 0, TPK_TMAP_UINT16, TPK_TMAP_UINT32, TPK_TMAP_INT32, TPK_TMAP_UINT64, TPK_TMAP_INT64,
    TPK_TMAP_FLOAT16, TPK_TMAP_FLOAT32, TPK_TMAP_FLOAT64, TPK_TMAP_BFLOAT16, TPK_TMAP_FLOAT32_FTZ,
    TPK_TMAP_TFLOAT32, TPK_TMAP_TFLOAT32_FTZ, TPK_TMAP_16U4_ALIGN8B, TPK_TMAP_16U4_ALIGN16B,
    TPK_TMAP_16U6_ALIGN16B
};
/* cuda.h: CUtensorMapInterleave, CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill */
enum { TPK_TMAP_INTERLEAVE_NONE = 0, TPK_TMAP_INTERLEAVE_16B, TPK_TMAP_INTERLEAVE_32B };
enum {
    TPK_TMAP_SWIZZLE_NONE = 0, TPK_TMAP_SWIZZLE_32B, TPK_TMAP_SWIZZLE_64B, TPK_TMAP_SWIZZLE_128B,
    TPK_TMAP_SWIZZLE_128B_ATOM_32B, TPK_TMAP_SWIZZLE_128B_ATOM_32B_FLIP_8B, TPK_TMAP_SWIZZLE_128B_ATOM_64B
};
enum { TPK_TMAP_L2_PROMOTION_LAST = 3 };
enum { TPK_TMAP_OOB_FILL_NONE = 0, TPK_TMAP_OOB_FILL_NAN_REQUEST_ZERO_FMA = 1 };

#define TPK_TMAP_MAGIC 0x70616d726f736e74ull /* "tnsormap": written by tpk_tmap_encode, checked on every use */
#define TPK_TMAP_MAX_RANK 5

/* The 128 bytes of an encoded map. */
typedef struct {
    uint64_t magic;
    uint64_t address;                          /* globalAddress */
    uint64_t dims[TPK_TMAP_MAX_RANK];          /* globalDim, elements */
    uint64_t strides[TPK_TMAP_MAX_RANK - 1];   /* globalStrides: bytes from one index of dimension i + 1 to the next */
    uint16_t box[TPK_TMAP_MAX_RANK];           /* boxDim, elements */
    uint8_t element_strides[TPK_TMAP_MAX_RANK];
    uint8_t dtype, rank, interleave, swizzle, l2_promotion, oob_fill;
} tpk_tmap;

#ifdef __cplusplus
static_assert(sizeof(tpk_tmap) <= 128, "a CUtensorMap is 128 bytes");
#else
_Static_assert(sizeof(tpk_tmap) <= 128, "a CUtensorMap is 128 bytes");
#endif

/* Bytes per element of a data type that has whole-byte elements; 0 for the packed sub-byte types. */
static inline unsigned tpk_tmap_element_bytes(unsigned dtype) {
    static const unsigned char bytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};
    return dtype < sizeof bytes ? bytes[dtype] : 0;
}

static inline int tpk_tmap_is_float(unsigned dtype) {
    return dtype >= TPK_TMAP_FLOAT16 && dtype <= TPK_TMAP_TFLOAT32_FTZ; /* FLOAT16 .. TFLOAT32_FTZ are all floats */
}

/* cuTensorMapEncodeTiled's checks (the requirements its documentation in cuda.h lists), then the encoding into
 * out (128 bytes). Returns 0, or 1 with the first violated rule in why. The packed sub-byte data types and the
 * 128B_ATOM swizzles are refused as well: they are for GPUs newer than the emulated sm_90. */
static inline int tpk_tmap_encode(void* out, unsigned dtype, unsigned rank, const void* address, const uint64_t* dims,
                                  const uint64_t* strides, const uint32_t* box, const uint32_t* element_strides,
                                  unsigned interleave, unsigned swizzle, unsigned l2_promotion, unsigned oob_fill,
                                  char* why, size_t why_len) {
#define TPK_TMAP_REFUSE(...)                   \
    do {                                       \
        snprintf(why, why_len, __VA_ARGS__);   \
        return 1;                              \
    } while (0)
    const uint64_t addr = (uint64_t)(uintptr_t)address;
    if (out == NULL || (uintptr_t)out % 64 != 0) TPK_TMAP_REFUSE("the tensor map at %p is NULL or not 64-byte aligned", out);
    if (dtype > TPK_TMAP_16U6_ALIGN16B) TPK_TMAP_REFUSE("unknown data type %u", dtype);
    const unsigned esize = tpk_tmap_element_bytes(dtype);
    if (esize == 0) TPK_TMAP_REFUSE("packed data type %u is not supported on sm_90", dtype);
    if (interleave > TPK_TMAP_INTERLEAVE_32B) TPK_TMAP_REFUSE("unknown interleave %u", interleave);
    if (swizzle > TPK_TMAP_SWIZZLE_128B_ATOM_64B) TPK_TMAP_REFUSE("unknown swizzle %u", swizzle);
    if (swizzle > TPK_TMAP_SWIZZLE_128B) TPK_TMAP_REFUSE("swizzle %u (128B with atoms) is not supported on sm_90", swizzle);
    if (l2_promotion > TPK_TMAP_L2_PROMOTION_LAST) TPK_TMAP_REFUSE("unknown L2 promotion %u", l2_promotion);
    if (oob_fill > TPK_TMAP_OOB_FILL_NAN_REQUEST_ZERO_FMA) TPK_TMAP_REFUSE("unknown out-of-bounds fill %u", oob_fill);
    if (rank == 0 || rank > TPK_TMAP_MAX_RANK) TPK_TMAP_REFUSE("rank %u is not in 1..5", rank);
    if (interleave != TPK_TMAP_INTERLEAVE_NONE && rank < 3) TPK_TMAP_REFUSE("an interleaved layout needs rank >= 3, not %u", rank);
    const unsigned align = interleave == TPK_TMAP_INTERLEAVE_32B ? 32 : 16;
    if (addr == 0 || addr % align != 0) TPK_TMAP_REFUSE("global address %p is not %u-byte aligned", address, align);
    if (dims == NULL || box == NULL || element_strides == NULL || (rank > 1 && strides == NULL)) {
        TPK_TMAP_REFUSE("a NULL array");
    }
    for (unsigned i = 0; i < rank; i++) {
        if (dims[i] == 0 || dims[i] > (1ull << 32)) {
            TPK_TMAP_REFUSE("globalDim[%u] = %llu is not in 1..2^32", i, (unsigned long long)dims[i]);
        }
        if (box[i] == 0 || box[i] > 256) TPK_TMAP_REFUSE("boxDim[%u] = %u is not in 1..256", i, box[i]);
        if (element_strides[i] == 0 || element_strides[i] > 8) {
            TPK_TMAP_REFUSE("elementStrides[%u] = %u is not in 1..8", i, element_strides[i]);
        }
    }
    for (unsigned i = 0; i + 1 < rank; i++) {
        if (strides[i] % align != 0 || strides[i] >= (1ull << 40)) {
            TPK_TMAP_REFUSE("globalStrides[%u] = %llu is not a multiple of %u below 2^40", i,
                            (unsigned long long)strides[i], align);
        }
    }
    const unsigned inner = box[0] * esize; /* the bounding box's inner dimension, bytes */
    if (interleave == TPK_TMAP_INTERLEAVE_NONE && inner % 16 != 0) {
        TPK_TMAP_REFUSE("boxDim[0] * element size = %u bytes is not a multiple of 16", inner);
    }
    if (interleave == TPK_TMAP_INTERLEAVE_32B && swizzle != TPK_TMAP_SWIZZLE_32B) {
        TPK_TMAP_REFUSE("interleave 32B needs swizzle 32B");
    }
    if (interleave == TPK_TMAP_INTERLEAVE_NONE && swizzle != TPK_TMAP_SWIZZLE_NONE) {
        const unsigned span = swizzle == TPK_TMAP_SWIZZLE_32B ? 32 : swizzle == TPK_TMAP_SWIZZLE_64B ? 64 : 128;
        if (inner > span) TPK_TMAP_REFUSE("the box's inner dimension, %u bytes, exceeds the %u-byte swizzle span", inner, span);
    }
    if (oob_fill != TPK_TMAP_OOB_FILL_NONE && !tpk_tmap_is_float(dtype)) {
        TPK_TMAP_REFUSE("NaN out-of-bounds fill for the non-floating-point data type %u", dtype);
    }
#undef TPK_TMAP_REFUSE
    tpk_tmap m;
    memset(&m, 0, sizeof m);
    m.magic = TPK_TMAP_MAGIC;
    m.address = addr;
    for (unsigned i = 0; i < rank; i++) {
        m.dims[i] = dims[i];
        m.box[i] = (uint16_t)box[i];
        m.element_strides[i] = (uint8_t)element_strides[i];
        if (i + 1 < rank) m.strides[i] = strides[i];
    }
    m.dtype = (uint8_t)dtype;
    m.rank = (uint8_t)rank;
    m.interleave = (uint8_t)interleave;
    m.swizzle = (uint8_t)swizzle;
    m.l2_promotion = (uint8_t)l2_promotion;
    m.oob_fill = (uint8_t)oob_fill;
    memset(out, 0, 128);
    memcpy(out, &m, sizeof m);
    return 0;
}

/* The map in 128 bytes, if they hold one tpk_tmap_encode wrote: 1, else 0. */
static inline int tpk_tmap_decode(const void* in, tpk_tmap* m) {
    memcpy(m, in, sizeof *m);
    return m->magic == TPK_TMAP_MAGIC;
}

#endif
