#pragma once
// The data movement of a 2-D convolution on the matrix-product kernels
// (ops/conv2d.h): im2col lays out, per sample, every window the kernel
// reads as a column, so that the convolution is one product per sample,
//   y_b (C_out, OH·OW) = weight (C_out, C·KH·KW) @ cols_b (C·KH·KW, OH·OW),
// and col2im adds such columns back onto the input positions they came
// from (the backward of im2col, for dx = col2im(weightᵀ @ dy)).
//
//   x (B, C, H, W), contiguous;  cols (B, C·KH·KW, OH·OW), contiguous
//   cols[b, (c·KH + i)·KW + j, oh·OW + ow] = x[b, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw]
//                                            (0 where that falls in the padding)
//   col2im: dx[b, c, h, w] += Σ of the cols entries that im2col read from (h, w)
#include <cstdint>

#include "core/dispatch/kernel_table.h"
#include "core/types/view.h"

namespace tg::kernels {

// The geometry of one convolution (or pooling) over H × W.
struct Conv2dGeometry {
  int64_t kh = 1, kw = 1;  // kernel
  int64_t sh = 1, sw = 1;  // stride
  int64_t ph = 0, pw = 0;  // zero padding on each side
  int64_t dh = 1, dw = 1;  // dilation
  int64_t oh = 1, ow = 1;  // output size
};

struct Im2colArgs {
  View x;     // (B, C, H, W)
  View cols;  // (B, C·KH·KW, OH·OW), written
  Conv2dGeometry g;
};
struct Col2imArgs {
  View cols;  // (B, C·KH·KW, OH·OW)
  View dx;    // (B, C, H, W), accumulated into
  Conv2dGeometry g;
};

KernelTable<Im2colArgs>& im2col_table();
KernelTable<Col2imArgs>& col2im_table();

inline void im2col(Backend& backend, const Im2colArgs& args) { im2col_table().run(backend, args); }
inline void col2im(Backend& backend, const Col2imArgs& args) { col2im_table().run(backend, args); }

}  // namespace tg::kernels
