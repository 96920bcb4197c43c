// im2col and col2im's argument checks, tables and reference bodies
// (conv2d.h): one element at a time, straight from the formula.
#include "kernels/conv2d/conv2d.h"

#include <string_view>

#include "core/types/visit_dtype.h"
#include "core/services/error.h"
#include "core/dispatch/kernel_checks.h"

namespace tg::kernels {

namespace {

void check_pair(std::string_view op, const View& image, const View& cols, const Conv2dGeometry& g) {
  checks::rank(op, "x", image, 4);
  checks::floating(op, image);
  checks::contiguous(op, "x", image);
  checks::contiguous(op, "cols", cols);
  checks::dtype(op, "cols", cols, image.dtype);
  if (g.kh < 1 || g.kw < 1 || g.sh < 1 || g.sw < 1 || g.dh < 1 || g.dw < 1 || g.ph < 0 || g.pw < 0 || g.oh < 0 ||
      g.ow < 0)
    fail("{}: kernel {}x{}, stride {}x{}, dilation {}x{} must be >= 1 and padding {}x{}, output {}x{} >= 0", op, g.kh,
         g.kw, g.sh, g.sw, g.dh, g.dw, g.ph, g.pw, g.oh, g.ow);
  const int64_t B = image.shape[0], C = image.shape[1];
  checks::shape(op, "cols", cols, Shape{B, C * g.kh * g.kw, g.oh * g.ow});
}

void check_im2col(const Im2colArgs& a) { check_pair("im2col", a.x, a.cols, a.g); }
void check_col2im(const Col2imArgs& a) { check_pair("col2im", a.dx, a.cols, a.g); }

void im2col_reference(Backend&, const Im2colArgs& a) {
  const Conv2dGeometry& g = a.g;
  const int64_t B = a.x.shape[0], C = a.x.shape[1], H = a.x.shape[2], W = a.x.shape[3];
  visit_float(a.x.dtype, "im2col", [&]<typename T>() {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j)
            for (int64_t oh = 0; oh < g.oh; ++oh)
              for (int64_t ow = 0; ow < g.ow; ++ow) {
                const int64_t h = oh * g.sh - g.ph + i * g.dh, w = ow * g.sw - g.pw + j * g.dw;
                const bool inside = h >= 0 && h < H && w >= 0 && w < W;
                element<T>(a.cols, b, (c * g.kh + i) * g.kw + j, oh * g.ow + ow) =
                    inside ? element<T>(a.x, b, c, h, w) : T(0);
              }
  });
}

void col2im_reference(Backend&, const Col2imArgs& a) {
  const Conv2dGeometry& g = a.g;
  const int64_t B = a.dx.shape[0], C = a.dx.shape[1], H = a.dx.shape[2], W = a.dx.shape[3];
  visit_float(a.dx.dtype, "col2im", [&]<typename T>() {
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j)
            for (int64_t oh = 0; oh < g.oh; ++oh)
              for (int64_t ow = 0; ow < g.ow; ++ow) {
                const int64_t h = oh * g.sh - g.ph + i * g.dh, w = ow * g.sw - g.pw + j * g.dw;
                if (h >= 0 && h < H && w >= 0 && w < W)
                  element<T>(a.dx, b, c, h, w) += element<T>(a.cols, b, (c * g.kh + i) * g.kw + j, oh * g.ow + ow);
              }
  });
}

}  // namespace

KernelTable<Im2colArgs>& im2col_table() {
  static KernelTable<Im2colArgs> table("im2col", &check_im2col, &im2col_reference);
  return table;
}

KernelTable<Col2imArgs>& col2im_table() {
  static KernelTable<Col2imArgs> table("col2im", &check_col2im, &col2im_reference);
  return table;
}

}  // namespace tg::kernels
