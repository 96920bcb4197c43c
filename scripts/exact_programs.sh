# The test programs whose checks claim bit-for-bit results, sourced by scripts/test.sh --portable (run in the
# portable build) and scripts/soak.sh (run again and again under load): kernels (a product's bits whatever the
# threads), translate_models (batched against alone, lazy against eager), row_independence (a row's bits whatever
# the rows with it, op by op), checkpoint, harness and user_programs
# (resume bit for bit), examples (the example programs' runs repeat), multihead_attention and transformer (batched
# against unbatched, exactly), recurrent_networks, speech and shared_work (features made beside the step), audio
# (a synthesized corpus is a function of its options and seed), data (batches and shuffles from a seed).
exact_programs=(kernels translate_models row_independence checkpoint harness user_programs examples multihead_attention
  transformer recurrent_networks speech shared_work audio data)
