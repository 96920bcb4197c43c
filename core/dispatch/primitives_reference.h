#pragma once
// The primitives' reference bodies (primitives_reference.cpp), for their
// tables (primitives.cpp): the `reference` backend's bodies.
#include "core/dispatch/primitives.h"

namespace tg::primitives {

void fill_reference(Backend&, const FillArgs& args);
void copy_reference(Backend&, const CopyArgs& args);
void unary_reference(Backend&, const UnaryArgs& args);
void unary_backward_reference(Backend&, const UnaryBackwardArgs& args);
void binary_reference(Backend&, const BinaryArgs& args);
void where_reference(Backend&, const WhereArgs& args);
void reduce_reference(Backend&, const ReduceArgs& args);
void matmul_reference(Backend&, const MatmulArgs& args);
void gather_rows_reference(Backend&, const GatherRowsArgs& args);
void scatter_add_rows_reference(Backend&, const ScatterAddRowsArgs& args);
void softmax_reference(Backend&, const SoftmaxArgs& args);
void softmax_backward_reference(Backend&, const SoftmaxBackwardArgs& args);

}  // namespace tg::primitives
