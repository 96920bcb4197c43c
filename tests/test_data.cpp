// The data library: reading corpora, Multi30k's tokenization, vocabularies
// and batching, and where Multi30k is. Data-set checks read it where the
// programs find it ($MULTI30K_DIR, which scripts/test.sh points at the shared
// copy beside the repository; else the download cache) and are skipped, with
// a message, when it is absent.
#include <doctest/doctest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "tapegrad.h"
#include "tapegrad_text.h"
#include "test_support.h"

using namespace tg;
using namespace tg::text;

namespace {

using test_support::have_multi30k;
using test_support::multi30k_dir;

// A fresh directory under the system temp dir, removed at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("tapegrad_test_data_" + std::to_string(reinterpret_cast<uintptr_t>(this)) + "_" +
            std::to_string(std::rand()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

void write_gz_bytes(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

std::vector<std::vector<std::string>> tokenized(const std::vector<std::string>& lines) {
  std::vector<std::vector<std::string>> out;
  for (const auto& l : lines) out.push_back(split_tokens(l));
  return out;
}

// doctest's matcher from a std::string (it copies the text).
doctest::Contains contains(const std::string& text) { return doctest::Contains(text.c_str()); }

// Sets an environment variable (unsets it for nullptr) until the end of the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    if (old != nullptr) old_ = old;
    had_ = old != nullptr;
    set(value);
  }
  ~ScopedEnv() { set(had_ ? old_.c_str() : nullptr); }

 private:
  void set(const char* value) const {
    if (value == nullptr) ::unsetenv(name_);
    else ::setenv(name_, value, 1);
  }
  const char* name_;
  std::string old_;
  bool had_ = false;
};

// Works in `dir` until the end of the scope.
class ScopedCwd {
 public:
  explicit ScopedCwd(const std::filesystem::path& dir) : old_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~ScopedCwd() { std::filesystem::current_path(old_); }

 private:
  std::filesystem::path old_;
};

}  // namespace

// ---------------------------------------------------------------- where Multi30k is

TEST_CASE("find_multi30k_dir: --data-dir, then $MULTI30K_DIR, then the download cache; no place of a checkout") {
  TempDir tmp;
  const std::filesystem::path work = tmp.path / "work" / "checkout";  // the current directory
  std::filesystem::create_directories(work);
  ScopedCwd in_work(work);
  ScopedEnv no_env("MULTI30K_DIR", nullptr);
  ScopedEnv cache_home("XDG_CACHE_HOME", tmp.file("cache").c_str());
  const std::string cache = tmp.file("cache") + "/tapegrad/multi30k";
  CHECK(multi30k_cache_dir() == cache);

  // Copies beside or inside a checkout are not looked at (the scripts name
  // them through $MULTI30K_DIR): with no cache, the error names the cache and
  // how to get the data.
  std::filesystem::create_directories(work / "data" / "multi30k");
  std::filesystem::create_directories(tmp.path / "work" / "shared" / "data" / "multi30k");
  CHECK_THROWS_WITH_AS(find_multi30k_dir(),
                       contains("Multi30k not found: no --data-dir given, $MULTI30K_DIR not set, and the download "
                                "cache '" + cache + "' is not a directory; run scripts/get_multi30k.sh"),
                       Error);
  std::filesystem::create_directories(cache);
  CHECK(find_multi30k_dir() == cache);
  // An explicit choice is returned as given, even where nothing is (the reader then names the missing file).
  {
    ScopedEnv env("MULTI30K_DIR", "/nowhere/env");
    CHECK(find_multi30k_dir() == "/nowhere/env");
    CHECK(find_multi30k_dir("/nowhere/flag") == "/nowhere/flag");
  }
  CHECK(find_multi30k_dir("/nowhere/flag") == "/nowhere/flag");
  // Without XDG_CACHE_HOME the cache is under $HOME.
  ScopedEnv no_cache_home("XDG_CACHE_HOME", nullptr);
  ScopedEnv home("HOME", "/home/someone");
  CHECK(multi30k_cache_dir() == "/home/someone/.cache/tapegrad/multi30k");
}

// ---------------------------------------------------------------- corpus

TEST_CASE("read_lines reads plain and gzip files alike, long lines included") {
  TempDir tmp;
  const std::string long_line(300000, 'x');  // longer than any read buffer
  const std::string text = "Zwei Männer.\n\nA dog\r\n" + long_line + "\nlast line without newline";
  write_bytes(tmp.file("a.txt"), text);
  write_gz_bytes(tmp.file("a.txt.gz"), text);
  const std::vector<std::string> expected = {"Zwei Männer.", "", "A dog", long_line, "last line without newline"};
  CHECK(read_lines(tmp.file("a.txt")) == expected);
  CHECK(read_lines(tmp.file("a.txt.gz")) == expected);

  write_bytes(tmp.file("empty.txt"), "");
  CHECK(read_lines(tmp.file("empty.txt")).empty());
  write_bytes(tmp.file("one.txt"), "one\n");
  CHECK(read_lines(tmp.file("one.txt")) == std::vector<std::string>{"one"});

  // write_lines round trip, compressed when the name ends in .gz
  write_lines(tmp.file("out.gz"), expected);
  CHECK(read_lines(tmp.file("out.gz")) == expected);
  std::ifstream gz(tmp.file("out.gz"), std::ios::binary);
  CHECK(gz.get() == 0x1f);  // gzip magic
  write_lines(tmp.file("out.txt"), {"a", "b"});
  std::ifstream plain(tmp.file("out.txt"));
  std::string all((std::istreambuf_iterator<char>(plain)), std::istreambuf_iterator<char>());
  CHECK(all == "a\nb\n");
}

TEST_CASE("read_lines rejects a truncated or corrupted gzip stream instead of reading part of it") {
  TempDir tmp;
  std::string text;
  for (int i = 0; i < 2000; ++i) text += fmt::format("ein mann im anzug und zylinder, satz {}\n", i);
  write_gz_bytes(tmp.file("full.gz"), text);
  std::ifstream in(tmp.file("full.gz"), std::ios::binary);
  const std::string gz((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(read_lines(tmp.file("full.gz")).size() == 2000);
  // Cut anywhere after the header, in the data or in the 8-byte trailer (CRC-32, length).
  for (const size_t keep : {gz.size() / 2, gz.size() - 9, gz.size() - 4, gz.size() - 1}) {
    CAPTURE(keep);
    write_bytes(tmp.file("cut.gz"), gz.substr(0, keep));
    CHECK_THROWS_WITH_AS(read_lines(tmp.file("cut.gz")), contains("the gzip stream is truncated"), tg::Error);
  }
  // A flipped bit in the compressed data or in the stored CRC.
  for (const size_t at : {gz.size() / 2, gz.size() - 6}) {
    CAPTURE(at);
    std::string flipped = gz;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    write_bytes(tmp.file("flipped.gz"), flipped);
    CHECK_THROWS_WITH_AS(read_lines(tmp.file("flipped.gz")), contains("flipped.gz"), tg::Error);
  }
  // Two parallel files cut at the same place are not a smaller corpus.
  write_bytes(tmp.file("cut.de.gz"), gz.substr(0, gz.size() / 3));
  write_bytes(tmp.file("cut.en.gz"), gz.substr(0, gz.size() / 3));
  CHECK_THROWS_WITH_AS(read_parallel(tmp.file("cut.de.gz"), tmp.file("cut.en.gz")), contains("truncated"), tg::Error);
}

TEST_CASE("read_lines rejects invalid UTF-8 naming file, line and byte") {
  TempDir tmp;
  write_bytes(tmp.file("bad.txt"), "fine\nab\xFF" "cd\n");
  CHECK_THROWS_WITH_AS(read_lines(tmp.file("bad.txt")), contains(tmp.file("bad.txt") + ":2: invalid UTF-8 at byte 2"),
                       tg::Error);
  write_gz_bytes(tmp.file("bad.gz"), "ok\nok\n\xC3(\n");  // truncated two-byte sequence
  CHECK_THROWS_WITH_AS(read_lines(tmp.file("bad.gz")), contains(tmp.file("bad.gz") + ":3: invalid UTF-8 at byte 0"),
                       tg::Error);
  write_bytes(tmp.file("overlong.txt"), "\xC0\xAF\n");  // overlong "/"
  CHECK_THROWS_AS(read_lines(tmp.file("overlong.txt")), tg::Error);
  write_bytes(tmp.file("surrogate.txt"), "\xED\xA0\x80\n");
  CHECK_THROWS_AS(read_lines(tmp.file("surrogate.txt")), tg::Error);
  CHECK(find_invalid_utf8("ẞ € 𝄞 ok") == std::nullopt);
}

TEST_CASE("missing files and parallel files of different lengths are errors naming the files") {
  TempDir tmp;
  CHECK_THROWS_WITH_AS(read_lines(tmp.file("nope.gz")), contains(fmt::format("file not found: '{}'", tmp.file("nope.gz"))),
                       tg::Error);
  write_bytes(tmp.file("src.de"), "a\nb\nc\n");
  write_bytes(tmp.file("tgt.en"), "a\nb\n");
  CHECK_THROWS_WITH_AS(read_parallel(tmp.file("src.de"), tmp.file("tgt.en")),
                       contains(fmt::format("'{}' has 3 lines, '{}' has 2 lines", tmp.file("src.de"), tmp.file("tgt.en"))),
                       tg::Error);
  write_bytes(tmp.file("tgt2.en"), "x\ny\nz");
  const auto pairs = read_parallel(tmp.file("src.de"), tmp.file("tgt2.en"));
  REQUIRE(pairs.size() == 3);
  CHECK(pairs[2] == std::pair<std::string, std::string>{"c", "z"});
}

// ---------------------------------------------------------------- tokenizer

TEST_CASE("lowercase handles German and other Latin capitals") {
  CHECK(lowercase("ÄRGER ÜBER ÖL, STRAẞE") == "ärger über öl, straße");
  CHECK(lowercase("ÀÉÎÕÑ Ÿ ŁÓDŹ ŐRSÉG Ĳ") == "àéîõñ ÿ łódź őrség ĳ");
  CHECK(lowercase("ΑΒΓ Дом") == "αβγ дом");
  CHECK(lowercase("İ") == "i\xCC\x87");  // as Perl's lc: i + combining dot above
}

TEST_CASE("tokenizer: English examples follow Moses' rules") {
  // clitics go right and are escaped; sentence-final period split; commas inside numbers kept
  CHECK(tokenize_line("It's 5,300 dollars, isn't it?", "en") == "it &apos;s 5,300 dollars , isn &apos;t it ?");
  CHECK(tokenize_line("A little boy playing GameCube at a McDonald's.", "en") ==
        "a little boy playing gamecube at a mcdonald &apos;s .");
  CHECK(tokenize_line("The Jones' house in the 1990's.", "en") == "the jones &apos; house in the 1990 &apos;s .");
  // hyphens stay inside words; brackets and & become tokens
  CHECK(tokenize_line("A blond-haired boy (age 5) & his dog.", "en") == "a blond-haired boy ( age 5 ) &amp; his dog .");
  // English "quotation," style: the period moves inside the quote before tokenizing
  CHECK(tokenize_line("A woman at \"Washington Farms\".", "en") == "a woman at &quot; washington farms . &quot;");
  // abbreviations keep their periods; "..." is one token
  CHECK(tokenize_line("Dr. Smith, i.e. the vet... waits.", "en") == "dr. smith , i.e. the vet ... waits .");
  // a no-break space between digits is a thousands separator ("1.000" in English)
  CHECK(tokenize_line("About 1 000 people — and 3 dogs.", "en") == "about 1.000 people - and 3 dogs .");
  // a stray backquote after the period (a real train line)
  CHECK(tokenize_line("A man and a woman on a motorcycle .`", "en") == "a man and a woman on a motorcycle  . &apos; ");
  CHECK(tokenize("Two dogs play.", "en") == std::vector<std::string>{"two", "dogs", "play", "."});
  CHECK(moses_tokenize("   ", "en") == "   ");  // blank lines pass the tokenizer untouched
  CHECK(tokenize_line("   ", "en") == " ");     // (normalize-punctuation squeezed the spaces)
}

TEST_CASE("tokenizer: German examples follow Moses' rules") {
  // the apostrophe is always its own token in German
  CHECK(tokenize_line("Ein kleiner Junge spielt bei McDonald's GameCube.", "de") ==
        "ein kleiner junge spielt bei mcdonald &apos; s gamecube .");
  // German ordinals 1..99 keep their period ("28." = 28th); 281 does not
  CHECK(tokenize_line("Ein Hund mit der Nummer 28.", "de") == "ein hund mit der nummer 28.");
  CHECK(tokenize_line("Ein Läufer mit der Zahl 281.", "de") == "ein läufer mit der zahl 281 .");
  // „…“ quotes become &quot;; z.B. stays whole; the en dash becomes a hyphen
  CHECK(tokenize_line("Ein Schild „Welcome“ – z.B. für Gäste.", "de") ==
        "ein schild &quot; welcome &quot; - z.b. für gäste .");
  // German "quotation". style: the period moves after the closing quote
  CHECK(tokenize_line("Er ruft „Hallo.“", "de") == "er ruft &quot; hallo &quot; .");
  // no-break space and digits: "2 Finger", a German thousands comma
  CHECK(tokenize_line("Sie hat 2\xC2\xA0" "Finger und 1 000 Euro.", "de") == "sie hat 2 finger und 1,000 euro .");
  CHECK(tokenize_line("ÜBER 3,5 METER GROẞ!", "de") == "über 3,5 meter groß !");
  CHECK_THROWS_WITH_AS(tokenize_line("x", "fr"), doctest::Contains("language 'fr' not supported; expected 'de' or 'en'"),
                       tg::Error);
}

TEST_CASE("detokenize undoes the tokenizer for English") {
  CHECK(detokenize(split_tokens("a little boy at a mcdonald &apos;s ."), "en") == "a little boy at a mcdonald's.");
  CHECK(detokenize(split_tokens("a woman at &quot; washington farms . &quot;"), "en") == "a woman at \"washington farms.\"");
  CHECK(detokenize(split_tokens("( etwa 38 jahre alt ) , dann ?"), "de") == "(etwa 38 jahre alt), dann?");
  CHECK(detokenize(split_tokens("the jones &apos; house costs $ 5 &amp; more !"), "en") == "the jones' house costs $5 & more!");
  CHECK(detokenize({}, "en").empty());
}

TEST_CASE("tokenizer reproduces Multi30k's lc.norm.tok files") {
  if (!have_multi30k()) return;
  const std::string dir = multi30k_dir();
  for (const std::string split : {"val", "train"}) {
    for (const std::string lang : {"de", "en"}) {
      const auto raw = read_lines(dir + "/" + split + "." + lang + ".gz");
      const auto tok = read_lines(dir + "/" + split + ".lc.norm.tok." + lang + ".gz");
      REQUIRE(raw.size() == tok.size());
      size_t same = 0, detok_same = 0;
      for (size_t i = 0; i < raw.size(); ++i) {
        const std::string mine = tokenize_line(raw[i], lang);
        same += mine == tok[i];
        // detokenize then tokenize again gives the same tokens
        if (split == "val") detok_same += tokenize_line(detokenize(split_tokens(mine), lang), lang) == mine;
      }
      const double agreement = static_cast<double>(same) / static_cast<double>(raw.size());
      MESSAGE(split << "." << lang << ": " << same << "/" << raw.size() << " lines identical to lc.norm.tok");
      CHECK(agreement >= 0.995);  // measured: 100% on train and val, both languages
      if (split == "val") {
        MESSAGE(split << "." << lang << ": " << detok_same << "/" << raw.size() << " survive detokenize + tokenize");
        CHECK(static_cast<double>(detok_same) / static_cast<double>(raw.size()) >= 0.99);
      }
    }
  }
}

// ---------------------------------------------------------------- vocab

TEST_CASE("Vocab: specials first, then by frequency and alphabet, rare tokens unknown") {
  const std::vector<std::vector<std::string>> sentences = {
      {"b", "a", "c", "a"}, {"c", "a", "d"}, {"b", "e", "c"}, {"z", "z"}};
  // counts: a 3, c 3, b 2, z 2, d 1, e 1
  const Vocab v = Vocab::build(sentences);  // min_freq 2
  CHECK(v.tokens() == std::vector<std::string>{"<pad>", "<bos>", "<eos>", "<unk>", "a", "c", "b", "z"});
  CHECK(v.size() == 8);
  CHECK(v.id("a") == 4);
  CHECK(v.id("d") == Vocab::unk_id);
  CHECK(v.encode({"c", "d", "z"}) == std::vector<int64_t>{5, 3, 7});
  CHECK(v.decode({Vocab::bos_id, 5, Vocab::pad_id, 3, 7, Vocab::eos_id, 4}) ==
        std::vector<std::string>{"c", "<unk>", "z"});
  CHECK(Vocab::build(sentences, 1).size() == 10);
  CHECK(Vocab::build(sentences, 1, 6).tokens().back() == "c");
  CHECK(Vocab::build(sentences, 4).size() == 4);
  CHECK_THROWS_WITH_AS(v.token(8), doctest::Contains("id 8 out of range [0, 8)"), tg::Error);
  CHECK_THROWS_WITH_AS(Vocab::build(sentences, 0), doctest::Contains("min_freq must be at least 1, got 0"), tg::Error);
}

TEST_CASE("Vocab round trips through a string and a file; bad files name the line") {
  TempDir tmp;
  const Vocab v = Vocab::build({{"männer", "&apos;s", "a"}, {"männer", "&apos;s", "a"}});
  CHECK(Vocab::from_string(v.to_string()) == v);
  v.save(tmp.file("vocab.txt"));
  const Vocab loaded = Vocab::load(tmp.file("vocab.txt"));
  CHECK(loaded == v);
  CHECK(loaded.id("männer") == v.id("männer"));

  CHECK_THROWS_WITH_AS(Vocab::from_string("<pad>\n<bos>\n<eos>\n<unk>\na\nb\na\n", "v.txt"),
                       doctest::Contains("v.txt:7: duplicate token 'a' (first on line 5)"), tg::Error);
  CHECK_THROWS_WITH_AS(Vocab::from_string("<pad>\n<eos>\n<bos>\n<unk>\n", "v.txt"),
                       doctest::Contains("v.txt:2: expected special token '<bos>', got '<eos>'"), tg::Error);
  CHECK_THROWS_WITH_AS(Vocab::from_string("<pad>\n<bos>\n<eos>\n<unk>\na b\n", "v.txt"),
                       doctest::Contains("v.txt:5: token 'a b' contains white space"), tg::Error);
  CHECK_THROWS_WITH_AS(Vocab::from_string("<pad>\n<bos>\n", "v.txt"),
                       doctest::Contains("v.txt: a vocabulary needs at least the 4 special tokens, got 2 lines"), tg::Error);
  write_bytes(tmp.file("bad.txt"), "<pad>\n<bos>\n<eos>\n<unk>\nok\n\n");
  CHECK_THROWS_WITH_AS(Vocab::load(tmp.file("bad.txt")), contains(tmp.file("bad.txt") + ":6: empty token"), tg::Error);
  CHECK_THROWS_WITH_AS(Vocab::load(tmp.file("missing.txt")), contains(fmt::format("cannot open '{}'", tmp.file("missing.txt"))),
                       tg::Error);
}

// ---------------------------------------------------------------- batching

TEST_CASE("make_batch: time-major padded tensors, masks and lengths") {
  const std::vector<Example> ex = {{{10, 11, 12}, {20}}, {{13}, {21, 22, 23}}};
  const Batch b = make_batch(ex, {0, 1});
  CHECK(b.src.shape() == Shape{3, 2});
  CHECK(b.src.dtype() == DType::i64);
  // (S, B): column b is sentence b
  CHECK(b.src.to_vector<int64_t>() == std::vector<int64_t>{10, 13, 11, 0, 12, 0});
  CHECK(b.src_lengths.to_vector<int64_t>() == std::vector<int64_t>{3, 1});
  CHECK(b.src_mask.shape() == Shape{2, 3});
  CHECK(b.src_mask.dtype() == DType::boolean);
  CHECK(b.src_mask.to_vector<int64_t>() == std::vector<int64_t>{1, 1, 1, 1, 0, 0});
  // T = 4: <bos> y1..yn and y1..yn <eos>
  CHECK(b.tgt_in.shape() == Shape{4, 2});
  CHECK(b.tgt_in.to_vector<int64_t>() == std::vector<int64_t>{1, 1, 20, 21, 0, 22, 0, 23});
  CHECK(b.tgt_out.to_vector<int64_t>() == std::vector<int64_t>{20, 21, 2, 22, 0, 23, 0, 2});
  CHECK(b.tgt_lengths.to_vector<int64_t>() == std::vector<int64_t>{2, 4});
  CHECK(b.num_tgt_tokens == 6);
  CHECK(b.indices == std::vector<int64_t>{0, 1});
  CHECK_THROWS_WITH_AS(make_batch(ex, {0, 2}), doctest::Contains("index 2 out of range [0, 2)"), tg::Error);
  CHECK_THROWS_WITH_AS(make_batch(ex, {}), doctest::Contains("no examples given"), tg::Error);
}

TEST_CASE("target_rows: the flat positions t·B + b of the target tokens; a batch without them is refused") {
  const std::vector<Example> ex = {{{10, 11, 12}, {20}}, {{13}, {21, 22, 23}}};
  const Batch b = make_batch(ex, {0, 1});  // tgt_out (4, 2): 20 21 / <eos> 22 / pad 23 / pad <eos>
  const Tensor rows = target_rows(b);
  CHECK(rows.dtype() == DType::i64);
  CHECK(rows.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 5, 7});
  CHECK(rows.numel() == b.num_tgt_tokens);
  Batch no_targets = b;
  no_targets.tgt_out = Tensor();
  CHECK_THROWS_WITH_AS(target_rows(no_targets), doctest::Contains("tgt_out"), tg::Error);
  Batch flat = b;
  flat.tgt_out = reshape(b.tgt_out, Shape{-1});
  CHECK_THROWS_WITH_AS(target_rows(flat), doctest::Contains("tgt_out must be int64 (T, B), got int64 (8,)"), tg::Error);
}

TEST_CASE("plan_epoch: each sentence once, reproducible per (seed, epoch), different across epochs") {
  std::vector<Example> ex;
  Generator gen(7);
  for (int i = 0; i < 1000; ++i)
    ex.push_back({std::vector<int64_t>(1 + gen.below(30), 5), std::vector<int64_t>(1 + gen.below(30), 6)});
  BatchOptions o;
  o.batch_size = 16;
  o.pool_batches = 10;
  o.seed = 3;
  for (const bool bucket : {true, false}) {
    o.bucket = bucket;
    const auto e0 = plan_epoch(ex, o, 0), e0_again = plan_epoch(ex, o, 0), e1 = plan_epoch(ex, o, 1);
    CHECK(e0 == e0_again);
    CHECK(e0 != e1);
    for (const auto& plan : {e0, e1}) {
      std::vector<int> seen(ex.size(), 0);
      for (const auto& batch : plan) {
        CHECK(batch.size() <= 16);
        for (const int64_t i : batch) ++seen[static_cast<size_t>(i)];
      }
      CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
    }
    BatchOptions other = o;
    other.seed = 4;
    CHECK(plan_epoch(ex, other, 0) != e0);
  }
  // a token budget: B * max(S, T + 1) stays within it
  o.bucket = true;
  o.max_tokens = 200;
  for (const auto& batch : plan_epoch(ex, o, 0)) {
    int64_t width = 0;
    for (const int64_t i : batch)
      width = std::max<int64_t>(width, std::max(ex[i].src.size(), ex[i].tgt.size() + 1));
    CHECK(width * static_cast<int64_t>(batch.size()) <= 200);
  }
  o.batch_size = 0;
  CHECK_THROWS_WITH_AS(plan_epoch(ex, o, 0), doctest::Contains("batch_size must be at least 1, got 0"), tg::Error);
}

TEST_CASE("plan_eval: longest first, all indices, order recoverable; drop_long counts") {
  std::vector<Example> ex = {{{1, 1}, {1}}, {{1, 1, 1, 1}, {1}}, {{1}, {1}}, {{1, 1, 1, 1}, {1, 1}}, {{1, 1, 1}, {1}}};
  const auto plan = plan_eval(ex, 2);
  CHECK(plan == std::vector<std::vector<int64_t>>{{3, 1}, {4, 0}, {2}});
  CHECK(plan_eval(ex, 2) == plan);  // deterministic
  // hypotheses written back in corpus order through the indices
  std::vector<int64_t> back(ex.size(), -1);
  for (const auto& batch : plan) {
    const Batch b = make_batch(ex, batch);
    for (int64_t k = 0; k < b.size(); ++k) back[static_cast<size_t>(b.indices[k])] = b.src_lengths.to_vector<int64_t>()[k];
  }
  CHECK(back == std::vector<int64_t>{2, 4, 1, 4, 3});
  CHECK(drop_long_examples(ex, 3) == 2);
  CHECK(ex.size() == 3);
  CHECK_THROWS_WITH_AS(drop_long_examples(ex, 0), doctest::Contains("max_len must be at least 1, got 0"), tg::Error);
}

TEST_CASE("bucketing wastes less on padding than plain shuffling on Multi30k train") {
  if (!have_multi30k()) return;
  const std::string dir = multi30k_dir();
  const auto src = tokenized(read_lines(dir + "/train.lc.norm.tok.de.gz"));
  const auto tgt = tokenized(read_lines(dir + "/train.lc.norm.tok.en.gz"));
  const Vocab src_vocab = Vocab::build(src), tgt_vocab = Vocab::build(tgt);
  MESSAGE("train vocab (min_freq 2): de " << src_vocab.size() << ", en " << tgt_vocab.size());
  std::vector<Example> ex = encode_pairs(src, tgt, src_vocab, tgt_vocab);
  const int64_t dropped = drop_long_examples(ex, 50);
  MESSAGE("sentences longer than 50 tokens dropped: " << dropped);
  BatchOptions o;
  o.batch_size = 64;
  o.seed = 1;
  const double bucketed = padding_fraction(ex, plan_epoch(ex, o, 0));
  o.bucket = false;
  const double shuffled = padding_fraction(ex, plan_epoch(ex, o, 0));
  MESSAGE("padding share, batch 64: bucketed " << bucketed << ", unbucketed " << shuffled);
  CHECK(bucketed < shuffled / 4);
  CHECK(bucketed < 0.1);
}

// ---------------------------------------------------------------- subwords

namespace {

// What SentencePiece's normaliser does to Multi30k's text: white space runs
// become one space, none at the ends (NFKC leaves these sentences alone).
std::string collapse_spaces(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Training sentences: Multi30k's raw English (punctuation normalised) when present, else made-up ones.
std::vector<std::string> subword_sentences(const std::string& split, size_t count) {
  std::vector<std::string> lines;
  if (have_multi30k()) {
    for (const std::string& line : read_lines(multi30k_dir() + "/" + split + ".en.gz")) {
      lines.push_back(normalize_punctuation(line, "en"));
      if (lines.size() == count) break;
    }
    return lines;
  }
  const std::vector<std::string> words = {"A", "man", "dog", "runs", "on", "the", "street", "in", "red", "jacket",
                                          "Two", "women", "are", "sitting", "at", "table", "."};
  Generator gen(split == "train" ? 1 : 2);
  for (size_t i = 0; i < std::min<size_t>(count, 400); ++i) {
    std::string s;
    for (uint64_t k = 0, n = 3 + gen.below(9); k < n; ++k) s += (k ? " " : "") + words[gen.below(words.size())];
    lines.push_back(s);
  }
  return lines;
}

}  // namespace

TEST_CASE("SubwordModel: deterministic, specials at 0-3, every training sentence round trips") {
  const std::vector<std::string> sentences = subword_sentences("train", 5000);
  SubwordOptions options;
  options.vocab_size = have_multi30k() ? 800 : 40;  // the made-up sentences hold at most 44 pieces
  const SubwordModel a = SubwordModel::train(sentences, options), b = SubwordModel::train(sentences, options);
  CHECK(a.bytes() == b.bytes());  // the same sentences and options give the same model
  CHECK(a.size() == options.vocab_size);
  const std::vector<std::string> pieces = a.pieces();
  CHECK(std::vector<std::string>(pieces.begin(), pieces.begin() + 4) ==
        std::vector<std::string>{"<pad>", "<bos>", "<eos>", "<unk>"});
  int mismatches = 0;
  for (const std::string& s : sentences) {
    const std::vector<std::string> encoded = a.encode(s);
    CHECK_FALSE(encoded.empty());
    if (a.decode(encoded) != collapse_spaces(s) && ++mismatches <= 3) CHECK_MESSAGE(false, "round trip: " << s);
  }
  CHECK(mismatches == 0);
  // Reloaded from its bytes it is the same model.
  const SubwordModel again = SubwordModel::from_bytes(a.bytes(), "test");
  CHECK(again.encode(sentences[0]) == a.encode(sentences[0]));
  CHECK_THROWS_WITH_AS(SubwordModel::from_bytes("not a model", "bytes.model"),
                       doctest::Contains("bytes.model is not a SentencePiece model"), Error);
  options.model_type = "bpe";
  CHECK(SubwordModel::train(sentences, options).size() == options.vocab_size);
  options.model_type = "wordpiece";
  CHECK_THROWS_WITH_AS(SubwordModel::train(sentences, options), doctest::Contains("unigram or bpe, got 'wordpiece'"),
                       Error);
}

TEST_CASE("SubwordModel: encoding equals the spm_encode program's on the validation set, piece for piece") {
  TempDir tmp;
  SubwordOptions options;
  options.vocab_size = have_multi30k() ? 800 : 40;  // the made-up sentences hold at most 44 pieces
  const SubwordModel model = SubwordModel::train(subword_sentences("train", 5000), options);
  {
    std::ofstream out(tmp.file("m.model"), std::ios::binary);
    out << model.bytes();
  }
  const std::vector<std::string> val = subword_sentences("val", 1014);
  write_lines(tmp.file("val.txt"), val);
  const std::string command = "spm_encode --model='" + tmp.file("m.model") + "' --output_format=piece < '" +
                              tmp.file("val.txt") + "' > '" + tmp.file("val.pieces") + "'";
  REQUIRE_MESSAGE(std::system(command.c_str()) == 0, "spm_encode (Debian's sentencepiece) must be installed");
  const std::vector<std::string> theirs = read_lines(tmp.file("val.pieces"));
  REQUIRE(theirs.size() == val.size());
  for (size_t i = 0; i < val.size(); ++i) {
    CAPTURE(val[i]);
    CHECK(model.encode(val[i]) == split_tokens(theirs[i]));
  }
}

TEST_CASE("base64 round trips any bytes and names what is wrong") {
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("") == "");
  std::string bytes;
  for (int i = 0; i < 1000; ++i) bytes += static_cast<char>((i * 37 + i / 7) & 0xFF);
  for (size_t n : {0, 1, 2, 3, 999, 1000}) CHECK(base64_decode(base64_encode(bytes.substr(0, n)), "t") == bytes.substr(0, n));
  CHECK_THROWS_WITH_AS(base64_decode("Zm9", "vocab"), doctest::Contains("base64 in vocab: length 3"), Error);
  CHECK_THROWS_WITH_AS(base64_decode("Zm!v", "vocab"), doctest::Contains("unexpected character at offset 2"), Error);
}
