#pragma once
#include <string>
#include <vector>

#include "core/tensor/tensor.h"

namespace tg {
// Einstein summation over one or two operands, as torch.einsum, for the
// patterns models use: a letter per dimension, "->" and the output letters
// (or none: the letters seen once, in alphabetical order, as PyTorch):
//   "ij,jk->ik"  "bij,bjk->bik"  "bi,bi->b"  "i,j->ij"  "bhqd,bhkd->bhqk"  "ij->ji"  "ij->i"
// Letters only one operand has and the output lacks are summed first; then
// shared letters in the output are batch dimensions, shared letters not in it
// are contracted, and the rest stay: one batched matmul between permutes and
// reshapes, so the gradient is theirs. Not supported (refused by name): three
// or more operands, "...", a letter twice in one operand (diagonals), and
// size-1 broadcasting of a letter.
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);
}  // namespace tg
