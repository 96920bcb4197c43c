#pragma once
// Broadcast from one rank (the root) to all: at the start of training every
// rank takes rank 0's parameters, so all begin bit-identical.
#include <cstddef>
#include <string>
#include <vector>

#include "core/tensor/tensor.h"
#include "distributed/all_reduce.h"

namespace tg::distributed {

// Overwrites `tensors` on every rank with the root's, in buckets of
// bucket_bytes through one flat buffer. Same requirements as all_reduce (any
// dtype but bool); every rank passes the same shapes in the same order.
void broadcast(const std::vector<Tensor>& tensors, int root = 0, size_t bucket_bytes = kDefaultBucketBytes);

// The root's value on every rank.
double broadcast_value(double value, int root = 0);
std::string broadcast_string(const std::string& text, int root = 0);

}  // namespace tg::distributed
