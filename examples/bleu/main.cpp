// bleu: corpus BLEU-4 of a hypothesis file against one or more reference files.
//
//   bleu --ref test.en --hyp hyp.en                     sacreBLEU-style: 13a tokenization, exp smoothing
//   bleu --ref test.lc.norm.tok.en --hyp hyp.tok --tokenize none --lowercase
//                                                       multi-bleu.perl -lc on tokenized text
//
// Files are plain text or .gz, one sentence per line, line i of every file
// belonging together.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <tapegrad.h>
#include <tapegrad_text.h>

#include <string>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"Corpus BLEU-4. --tokenize 13a (default): a sacreBLEU-style score computed by tapegrad on detokenized "
               "text; --tokenize none: exactly what Moses' multi-bleu.perl prints, on tokenized text."};
  std::vector<std::string> ref_paths;
  std::string hyp_path;
  std::string tokenize = "13a";
  bool lowercase = false;
  app.add_option("--ref", ref_paths, "reference file (repeat for several references)")->required();
  app.add_option("--hyp", hyp_path, "hypothesis file")->required();
  app.add_option("--tokenize", tokenize, "13a (sacreBLEU-style) or none (multi-bleu.perl)")
      ->check(CLI::IsMember({"13a", "none"}))
      ->capture_default_str();
  app.add_flag("--lowercase,--lc", lowercase, "case-insensitive BLEU (multi-bleu -lc / sacreBLEU -lc)");
  CLI11_PARSE(app, argc, argv);

  try {
    const std::vector<std::string> hyps = tg::text::read_lines(hyp_path);
    std::vector<std::vector<std::string>> refs;
    for (const std::string& path : ref_paths) {
      refs.push_back(tg::text::read_lines(path));
      if (refs.back().size() != hyps.size())
        tg::fail("bleu: line counts differ: hypothesis file '{}' has {} lines, reference file '{}' has {} lines",
                 hyp_path, hyps.size(), path, refs.back().size());
    }
    if (tokenize == "none") {
      fmt::print("{}\n", tg::text::multi_bleu(hyps, refs, lowercase).str());
    } else {
      const tg::text::BleuScore score = tg::text::sacre_bleu(hyps, refs, {tokenize, lowercase});
      fmt::print("{}\n", score.str());
      fmt::print("sacreBLEU-style signature (computed by tapegrad, not by sacreBLEU): {}\n", score.signature);
    }
  } catch (const tg::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
