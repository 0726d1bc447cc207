// Strided-to-contiguous copies (NumPy's ascontiguousarray), tiled for transposed layouts, and
// the select where(cond, a, b) with broadcasting.
#pragma once

#include <cstdint>
#include <vector>

namespace autodiff::kernels {

// dst (C-contiguous, shape) = the array at src with element strides `strides` (any sign).
// T is an unsigned integer of the element's size: the copy moves bits.  Shapes and strides
// must describe memory the caller owns (they come from a valid NumPy array).
template <typename T>
void copy_to_contiguous(const T* src, const std::vector<int64_t>& shape,
                        const std::vector<int64_t>& strides, T* dst);

// Concatenation along one axis, as bytes: outer rows of the output (the product of the dims
// before the axis) are made of each input's row of piece[i] bytes in turn; input i's rows
// start stride[i] bytes apart (piece[i] when it is C-contiguous).  Threads split the
// (row, input) pieces.
void concat_rows(const std::vector<const uint8_t*>& src, const std::vector<int64_t>& piece,
                 const std::vector<int64_t>& stride, int64_t outer, uint8_t* dst);

// tril / triu of `batch` C-contiguous (n, m) matrices of `item`-byte elements into dst: row i
// keeps columns j <= i + k (lower) or j >= i + k (upper), zero bytes elsewhere.  Threads
// split the rows.
void tri_rows(const uint8_t* src, int64_t batch, int64_t n, int64_t m, int64_t item, int64_t k,
              bool upper, uint8_t* dst);

// Edge padding of the last two dims of `planes` C-contiguous (h, w) planes of `item`-byte
// elements into (h + top + bottom, w + left + right) planes: output row r reads input row
// rmap[r], column c input column cmap[c] (reflect / replicate / circular index maps, in range;
// -1: the `fill` element instead, for constant padding).  Threads split the output rows.
void edge_pad_rows(const uint8_t* src, int64_t planes, int64_t h, int64_t w, int64_t item,
                   const int64_t* rmap, int64_t oh, const int64_t* cmap, int64_t ow, int64_t left,
                   const uint8_t* fill, uint8_t* dst);

// dst row i = src row rows[i] (rows of row_bytes bytes; rows already in range): a gather
// along the first axis (embedding lookup, x[index]).  Threads split the rows.
void gather_rows(const uint8_t* src, int64_t row_bytes, const int64_t* rows, int64_t k,
                 uint8_t* dst);

// out (C-contiguous, shape) = cond ? a : b elementwise, each operand given by element strides
// aligned with shape (0 on broadcast dims).  T moves bits, as above.
template <typename T>
void where_strided(const uint8_t* cond, const std::vector<int64_t>& sc, const T* a,
                   const std::vector<int64_t>& sa, const T* b, const std::vector<int64_t>& sb,
                   T* out, const std::vector<int64_t>& shape);

}  // namespace autodiff::kernels
