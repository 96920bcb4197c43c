#pragma once
// What the translate program's tests share (test_translate_cli, test_translate_serve):
// temporary folders, Multi30k or a synthetic corpus in its layout, a tiny
// model's training options and a trained checkpoint, the program beside the test.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "tapegrad.h"
#include "tapegrad_text.h"
#include "test_support.h"
#include "apps/translate/train.h"

namespace tiny_translation {

namespace fs = std::filesystem;
namespace tr = tg::translate;

// A fresh empty directory under the system's temporary directory.
inline std::string temp_dir(const std::string& name) {
  // The pid keeps two runs apart: meson runs translate_cli and its *_own/*_openblas variants side by side.
  const fs::path dir = fs::temp_directory_path() / ("tapegrad_translate_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// The Multi30k directory, or a synthetic corpus with the same file names.
inline std::string data_dir() {
  const std::string real = test_support::multi30k_dir();
  if (fs::exists(real + "/train.lc.norm.tok.de.gz") && fs::exists(real + "/val.lc.norm.tok.en.gz")) return real;
  MESSAGE("Multi30k not found in '" << real << "': training on a synthetic corpus");
  const std::string dir = temp_dir("synthetic_data");
  const std::vector<std::string> de = {"ein", "mann", "hund", "frau", "läuft", "auf", "der", "straße", "rot", "."};
  const std::vector<std::string> en = {"a", "man", "dog", "woman", "runs", "on", "the", "street", "red", "."};
  tg::Generator gen(11);
  for (const auto& [split, count] : {std::pair<std::string, int>{"train", 160}, {"val", 20}}) {
    std::vector<std::string> src, tgt;
    for (int i = 0; i < count; ++i) {
      std::string s, t;
      const uint64_t n = 2 + gen.below(8);
      for (uint64_t k = 0; k < n; ++k) {
        const uint64_t w = gen.below(de.size());
        s += (k ? " " : "") + de[w];
        t += (k ? " " : "") + en[w];
      }
      src.push_back(s);
      tgt.push_back(t);
    }
    tg::text::write_lines(dir + "/" + split + ".lc.norm.tok.de.gz", src);
    tg::text::write_lines(dir + "/" + split + ".lc.norm.tok.en.gz", tgt);
    tg::text::write_lines(dir + "/" + split + ".de.gz", src);  // the raw side (subwords, sacreBLEU) reads the same text
    tg::text::write_lines(dir + "/" + split + ".en.gz", tgt);
  }
  return dir;
}

inline tr::TrainOptions tiny_options(const std::string& kind, const std::string& checkpoint_dir) {
  tr::TrainOptions o;
  o.model.kind = kind;
  o.model.embed = 12;
  o.model.hidden = 16;
  o.model.dropout = 0.3;
  o.settings.seed = 7;
  o.settings.batch_size = 16;
  o.settings.limit_train = 128;
  o.settings.max_len = 50;
  o.epochs = 3;
  o.limit_val = 12;
  o.data_dir = data_dir();
  o.checkpoint_dir = checkpoint_dir;
  return o;
}

inline tr::TrainHooks silent() {
  tr::TrainHooks hooks;
  hooks.out = nullptr;
  return hooks;
}

// A trained tiny checkpoint, made once for the tests that need one.
inline const std::string& trained_checkpoint() {
  static const std::string path = [] {
    const std::string dir = temp_dir("trained");
    tr::TrainOptions o = tiny_options("bahdanau", dir);
    o.epochs = 1;
    tr::train(o, silent());
    return dir + "/best.safetensors";
  }();
  return path;
}

// The translate program built beside this test (<build>/examples/translate/translate), or "" when it is not there.
inline std::string translate_program() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  const fs::path program = self.parent_path().parent_path() / "examples" / "translate" / "translate";
  if (ec || !fs::exists(program)) {
    MESSAGE("the translate program is not built beside this test (" << program.string() << "): skipping its checks");
    return "";
  }
  return program.string();
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace tiny_translation
