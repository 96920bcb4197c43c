#include "io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <tuple>

#include "io/crc32.h"
#include "core/services/error.h"

namespace tg {

static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");

namespace {

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // as the reference implementation
constexpr int kMaxJsonDepth = 16;

// ---- a small strict JSON parser (RFC 8259), enough for the header ----
//
// Why not a JSON library (Debian's nlohmann-json3-dev was weighed):
// the header is one flat object of strings, integer arrays and small objects,
// and the work is in what this reader does beyond parsing. It rejects
// duplicate keys (nlohmann keeps the last one silently: a second
// "data_offsets" must not win), bounds nesting (kMaxJsonDepth), keeps a
// number's digits as written (errors quote them; offsets and dimensions are
// checked as exact integers below 2^63), and says in our words what was
// wrong at which byte of the file. With nlohmann each of these is a SAX
// handler callback, so the code here would barely shrink, and core would
// compile a header of some 25,000 lines for it. This parser is fuzzed
// (tests/fuzz/fuzz_safetensors.cpp) and its errors tested one by one
// (tests/test_checkpoint.cpp).

struct Json {
  enum class Kind { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  std::string text;  // a string's value, or a number's digits as written
  bool boolean = false;
  std::vector<Json> items;                            // array
  std::vector<std::pair<std::string, Json>> members;  // object, in order
  Json() {}  // user-provided: clang 14 with libstdc++ 12 rejects the implicit one (pair of an incomplete Json)
};

std::string_view kind_name(Json::Kind k) {
  switch (k) {
    case Json::Kind::null: return "null";
    case Json::Kind::boolean: return "a boolean";
    case Json::Kind::number: return "a number";
    case Json::Kind::string: return "a string";
    case Json::Kind::array: return "an array";
    case Json::Kind::object: return "an object";
  }
  return "?";
}

class JsonParser {
 public:
  // `base` is the file position of text[0], for messages.
  JsonParser(std::string_view text, size_t base, const std::string& source)
      : text_(text), base_(base), source_(source) {}

  Json parse_document() {
    skip_space();
    Json value = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) error("unexpected '{}' after the end of the JSON object", printable(text_[pos_]));
    return value;
  }

 private:
  [[noreturn]] void error(std::string_view what) const {
    fail("safetensors \"{}\": invalid JSON header at byte {} of the file: {}", source_, base_ + pos_, what);
  }
  template <typename... Args>
  [[noreturn]] void error(fmt::format_string<Args...> format, Args&&... args) const {
    error(std::string_view(fmt::format(format, std::forward<Args>(args)...)));
  }
  static std::string printable(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f ? std::string(1, c) : fmt::format("\\x{:02x}", u);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  void skip_space() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  void expect(char c, std::string_view context) {
    if (at_end()) error("the header ends where '{}' was expected {}", c, context);
    if (text_[pos_] != c) error("expected '{}' {}, got '{}'", c, context, printable(text_[pos_]));
    ++pos_;
  }

  Json parse_value(int depth) {
    if (depth > kMaxJsonDepth) error("nested deeper than {} levels", kMaxJsonDepth);
    if (at_end()) error("the header ends where a value was expected");
    const char c = text_[pos_];
    if (c == '{') return parse_object(depth);
    if (c == '[') return parse_array(depth);
    if (c == '"') {
      Json j;
      j.kind = Json::Kind::string;
      j.text = parse_string();
      return j;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
    for (const auto& [word, kind, flag] : {std::tuple{"true", Json::Kind::boolean, true},
                                          std::tuple{"false", Json::Kind::boolean, false},
                                          std::tuple{"null", Json::Kind::null, false}}) {
      const std::string_view w(word);
      if (text_.substr(pos_, w.size()) == w) {
        pos_ += w.size();
        Json j;
        j.kind = kind;
        j.boolean = flag;
        return j;
      }
    }
    error("expected a value, got '{}'", printable(c));
  }

  Json parse_object(int depth) {
    Json j;
    j.kind = Json::Kind::object;
    ++pos_;  // {
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return j;
    }
    while (true) {
      skip_space();
      if (peek() != '"') {
        if (at_end()) error("the header ends inside an object");
        error("expected a string key, got '{}'", printable(peek()));
      }
      const size_t key_pos = pos_;
      std::string key = parse_string();
      for (const auto& [existing, _] : j.members)
        if (existing == key) {
          pos_ = key_pos;
          error("duplicate key \"{}\"", key);
        }
      skip_space();
      expect(':', "after an object key");
      skip_space();
      Json value = parse_value(depth + 1);
      j.members.emplace_back(std::move(key), std::move(value));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}', "or ',' in an object");
      return j;
    }
  }

  Json parse_array(int depth) {
    Json j;
    j.kind = Json::Kind::array;
    ++pos_;  // [
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return j;
    }
    while (true) {
      skip_space();
      j.items.push_back(parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']', "or ',' in an array");
      return j;
    }
  }

  Json parse_number() {
    const size_t start = pos_;
    const auto digits = [&] {
      const size_t from = pos_;
      while (!at_end() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (digits() == 0) {
      error("expected a digit in a number");
    }
    if (peek() == '.') {
      ++pos_;
      if (digits() == 0) error("expected a digit after the decimal point");
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (digits() == 0) error("expected a digit in the exponent");
    }
    if (!at_end() && text_[pos_] >= '0' && text_[pos_] <= '9') error("a number must not have leading zeros");
    Json j;
    j.kind = Json::Kind::number;
    j.text = std::string(text_.substr(start, pos_ - start));
    return j;
  }

  unsigned hex4() {
    if (pos_ + 4 > text_.size()) error("the header ends inside a \\u escape");
    unsigned value = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_];
      value <<= 4;
      if (c >= '0' && c <= '9') value |= c - '0';
      else if (c >= 'a' && c <= 'f') value |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') value |= c - 'A' + 10;
      else error("expected a hex digit in a \\u escape, got '{}'", printable(c));
      ++pos_;
    }
    return value;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::string parse_string() {
    ++pos_;  // "
    std::string out;
    while (true) {
      if (at_end()) error("the header ends inside a string");
      const char c = text_[pos_];
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) error("control character '{}' inside a string", printable(c));
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      ++pos_;
      if (at_end()) error("the header ends inside an escape");
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {  // high surrogate: a low one must follow
            if (text_.substr(pos_, 2) != "\\u") error("a high surrogate \\u escape must be followed by a low one");
            pos_ += 2;
            const unsigned low = hex4();
            if (low < 0xDC00 || low >= 0xE000) error("a high surrogate \\u escape must be followed by a low one");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            error("a lone low surrogate \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default: --pos_; error("unknown escape '\\{}'", printable(e));
      }
    }
  }

  std::string_view text_;
  size_t base_;
  const std::string& source_;
  size_t pos_ = 0;
};

// ---- header validation ----

struct DTypeCode {
  const char* code;
  DType dtype;
};
constexpr DTypeCode kDTypes[] = {
    {"F32", DType::f32}, {"F64", DType::f64}, {"I64", DType::i64}, {"BOOL", DType::boolean},
    {"F16", DType::f16}, {"BF16", DType::bf16}, {"I8", DType::i8}};

const char* dtype_code(DType d) {
  for (const auto& [code, dtype] : kDTypes)
    if (dtype == d) return code;
  return "?";
}

struct Entry {
  std::string name;
  DType dtype = DType::f32;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

// A non-negative integer below 2^63, or an error naming `what`.
uint64_t to_count(const Json& j, const std::string& source, const std::string& what) {
  bool ok = j.kind == Json::Kind::number && !j.text.empty() && j.text.size() <= 19 &&
            std::all_of(j.text.begin(), j.text.end(), [](char c) { return c >= '0' && c <= '9'; });
  uint64_t value = 0;
  if (ok) {
    for (char c : j.text) value = value * 10 + (c - '0');
    ok = value < (uint64_t{1} << 63);
  }
  if (!ok)
    fail("safetensors \"{}\": {} must be a non-negative integer, got {}", source, what,
         j.kind == Json::Kind::number ? j.text : std::string(kind_name(j.kind)));
  return value;
}

Entry parse_entry(const std::string& name, const Json& j, const std::string& source) {
  if (j.kind != Json::Kind::object)
    fail("safetensors \"{}\": tensor \"{}\" must be described by an object, got {}", source, name, kind_name(j.kind));
  const Json* dtype = nullptr;
  const Json* shape = nullptr;
  const Json* offsets = nullptr;
  for (const auto& [key, value] : j.members) {
    if (key == "dtype") dtype = &value;
    else if (key == "shape") shape = &value;
    else if (key == "data_offsets") offsets = &value;
    else fail("safetensors \"{}\": tensor \"{}\" has an unknown field \"{}\"", source, name, key);
  }
  for (const auto& [field, value] : {std::pair{"dtype", dtype}, {"shape", shape}, {"data_offsets", offsets}})
    if (value == nullptr) fail("safetensors \"{}\": tensor \"{}\" has no \"{}\"", source, name, field);

  Entry e;
  e.name = name;
  if (dtype->kind != Json::Kind::string)
    fail("safetensors \"{}\": tensor \"{}\": dtype must be a string, got {}", source, name, kind_name(dtype->kind));
  const auto known = std::find_if(std::begin(kDTypes), std::end(kDTypes),
                                  [&](const DTypeCode& c) { return dtype->text == c.code; });
  if (known == std::end(kDTypes))
    fail("safetensors \"{}\": tensor \"{}\" has dtype \"{}\"; tapegrad reads F32, F64, I64, BOOL, F16, BF16 and I8", source, name,
         dtype->text);
  e.dtype = known->dtype;

  if (shape->kind != Json::Kind::array)
    fail("safetensors \"{}\": tensor \"{}\": shape must be an array, got {}", source, name, kind_name(shape->kind));
  if (shape->items.size() > static_cast<size_t>(kMaxDims))
    fail("safetensors \"{}\": tensor \"{}\" has {} dimensions; tapegrad supports at most {}", source, name,
         shape->items.size(), kMaxDims);
  // extent: nbytes with zero sizes counted as 1, so that a zero cannot hide
  // sizes whose product overflows the tensor's strides, e.g. [0, 2^62, 2^62].
  uint64_t nbytes = dtype_size(e.dtype), extent = nbytes;
  bool overflow = false;
  for (const Json& d : shape->items) {
    const uint64_t size = to_count(d, source, fmt::format("a dimension of tensor \"{}\"", name));
    e.shape.push_back(static_cast<int64_t>(size));
    overflow = overflow || __builtin_mul_overflow(extent, std::max<uint64_t>(size, 1), &extent) ||
               extent >= (uint64_t{1} << 62);
    nbytes *= size;  // at most extent
  }
  if (offsets->kind != Json::Kind::array || offsets->items.size() != 2)
    fail("safetensors \"{}\": tensor \"{}\": data_offsets must be an array [begin, end]", source, name);
  e.begin = to_count(offsets->items[0], source, fmt::format("the begin offset of tensor \"{}\"", name));
  e.end = to_count(offsets->items[1], source, fmt::format("the end offset of tensor \"{}\"", name));
  if (e.end < e.begin)
    fail("safetensors \"{}\": tensor \"{}\" has data_offsets [{}, {}]: end is before begin", source, name, e.begin,
         e.end);
  if (overflow || e.end - e.begin != nbytes)
    fail("safetensors \"{}\": tensor \"{}\" is {} {} ({} bytes) but data_offsets [{}, {}] span {} bytes", source,
         name, dtype->text, e.shape.str(), overflow ? std::string("too many") : std::to_string(nbytes), e.begin,
         e.end, e.end - e.begin);
  return e;
}

uint64_t read_u64_le(std::string_view bytes) {
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  return n;
}

void append_u64_le(std::string& out, uint64_t n) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((n >> (8 * i)) & 0xFF);
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (u < 0x20) out += fmt::format("\\u{:04x}", u);
    else out += c;
  }
  return out + "\"";
}

std::string_view raw_bytes(const Tensor& host_contiguous) {
  return {static_cast<const char*>(host_contiguous.view().data), host_contiguous.numel() * dtype_size(host_contiguous.dtype())};
}

// The writer keeps a CRC-32 of each tensor's bytes, "crc32:<name>", and of the
// other metadata, "crc32:__metadata__" (every key and value, each ended by a
// NUL, in key order), so that a flipped bit or an edited vocabulary line is
// reported on reading instead of changing what the file means.
constexpr std::string_view kChecksumPrefix = "crc32:";

std::string hex32(uint32_t v) { return fmt::format("{:08x}", v); }

uint32_t metadata_crc32(const std::map<std::string, std::string>& metadata) {
  uint32_t crc = 0;
  for (const auto& [key, value] : metadata) {
    if (key.starts_with(kChecksumPrefix)) continue;
    crc = crc32(std::string_view(key.c_str(), key.size() + 1), crc);
    crc = crc32(std::string_view(value.c_str(), value.size() + 1), crc);
  }
  return crc;
}

// Checks the checksums a file carries and removes them from its metadata.
// A file without them (written by another program) is taken as it is.
void verify_checksums(SafetensorsContents& contents, const std::string& source) {
  std::map<std::string, std::string> checksums;
  for (auto it = contents.metadata.begin(); it != contents.metadata.end();)
    if (it->first.starts_with(kChecksumPrefix)) {
      checksums[it->first.substr(kChecksumPrefix.size())] = it->second;
      it = contents.metadata.erase(it);
    } else {
      ++it;
    }
  if (checksums.empty()) return;
  const auto damaged = [&](const std::string& what, const std::string& stored, uint32_t computed) {
    fail("safetensors \"{}\": {} fails its CRC-32 check (stored {}, computed {}): the file was changed or damaged "
         "after it was written",
         source, what, stored, hex32(computed));
  };
  const auto stored_metadata = checksums.find("__metadata__");
  if (stored_metadata == checksums.end())
    fail("safetensors \"{}\": the file has tensor checksums but no \"{}__metadata__\"", source, kChecksumPrefix);
  const uint32_t computed = metadata_crc32(contents.metadata);
  if (stored_metadata->second != hex32(computed)) damaged("the metadata", stored_metadata->second, computed);
  checksums.erase(stored_metadata);
  for (const auto& [name, t] : contents.tensors) {
    const auto stored = checksums.find(name);
    if (stored == checksums.end())
      fail("safetensors \"{}\": tensor \"{}\" has no checksum where every other part has one", source, name);
    const uint32_t crc = crc32(raw_bytes(t));
    if (stored->second != hex32(crc)) damaged(fmt::format("tensor \"{}\"", name), stored->second, crc);
    checksums.erase(stored);
  }
  if (!checksums.empty())
    fail("safetensors \"{}\": a checksum names \"{}\", which is not a tensor of the file", source,
         checksums.begin()->first);
}

// Host, contiguous copies of the tensors and the padded header, after checking names.
std::pair<std::string, NamedTensors> make_header(const NamedTensors& tensors,
                                                 const std::map<std::string, std::string>& metadata) {
  NamedTensors host;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, t] = tensors[i];
    if (name.empty()) fail("save_safetensors: tensor {} has an empty name", i);
    if (name == "__metadata__") fail("save_safetensors: the name \"__metadata__\" is reserved for the metadata");
    if (!t.defined()) fail("save_safetensors: tensor \"{}\" is undefined", name);
    for (size_t j = 0; j < i; ++j)
      if (tensors[j].first == name) fail("save_safetensors: two tensors are named \"{}\"", name);
    host.emplace_back(name, contiguous_values(t.detach().to(Device::cpu())));
  }
  std::map<std::string, std::string> with_checksums;
  for (const auto& [key, value] : metadata) {
    if (key.starts_with(kChecksumPrefix))
      fail("save_safetensors: metadata key \"{}\" is reserved (the writer's checksums are \"{}<name>\")", key,
           kChecksumPrefix);
    with_checksums[key] = value;
  }
  with_checksums[std::string(kChecksumPrefix) + "__metadata__"] = hex32(metadata_crc32(metadata));
  for (const auto& [name, t] : host) with_checksums[std::string(kChecksumPrefix) + name] = hex32(crc32(raw_bytes(t)));
  std::string header = "{";
  {
    header += "\"__metadata__\":{";
    bool first = true;
    for (const auto& [key, value] : with_checksums) {
      header += fmt::format("{}{}:{}", first ? "" : ",", json_string(key), json_string(value));
      first = false;
    }
    header += "}";
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : host) {
    const uint64_t nbytes = t.numel() * dtype_size(t.dtype());
    std::string shape;
    for (int d = 0; d < t.ndim(); ++d) shape += fmt::format("{}{}", d ? "," : "", t.shape()[d]);
    header += fmt::format("{}{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
                          header.size() > 1 ? "," : "", json_string(name), dtype_code(t.dtype()), shape, offset,
                          offset + nbytes);
    offset += nbytes;
  }
  header += "}";
  header.append((8 - header.size() % 8) % 8, ' ');
  return {std::move(header), std::move(host)};
}

}  // namespace

const Tensor* SafetensorsContents::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

namespace {

// What a file's header says, checked against the data's size: its metadata and its tensors' places, in file order.
struct Layout {
  std::map<std::string, std::string> metadata;
  std::vector<Entry> entries;
};

// The header length from the file's first 8 bytes, checked against the file's `size`.
uint64_t header_length(std::string_view first8, uint64_t size, const std::string& source) {
  if (size < 8) fail("safetensors \"{}\": the file is {} bytes, shorter than the 8-byte header length", source, size);
  const uint64_t header_size = read_u64_le(first8);
  if (header_size > size - 8)
    fail("safetensors \"{}\": the header length is {} bytes but only {} bytes follow it", source, header_size, size - 8);
  if (header_size > kMaxHeaderBytes)
    fail("safetensors \"{}\": the header length {} exceeds the limit of {} bytes", source, header_size, kMaxHeaderBytes);
  return header_size;
}

Layout parse_layout(std::string_view header, uint64_t data_size, const std::string& source) {
  const Json root = JsonParser(header, 8, source).parse_document();
  if (root.kind != Json::Kind::object)
    fail("safetensors \"{}\": the header must be a JSON object, got {}", source, kind_name(root.kind));
  Layout layout;
  for (const auto& [name, value] : root.members) {
    if (name == "__metadata__") {
      if (value.kind != Json::Kind::object)
        fail("safetensors \"{}\": __metadata__ must be an object, got {}", source, kind_name(value.kind));
      for (const auto& [key, v] : value.members) {
        if (v.kind != Json::Kind::string)
          fail("safetensors \"{}\": metadata \"{}\" must be a string, got {}", source, key, kind_name(v.kind));
        layout.metadata[key] = v.text;
      }
      continue;
    }
    layout.entries.push_back(parse_entry(name, value, source));
  }

  // Tensors must tile the data exactly: no overlap, no gap, nothing after.
  std::vector<Entry>& entries = layout.entries;
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
  uint64_t expected = 0;
  const Entry* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.end > data_size)
      fail("safetensors \"{}\": tensor \"{}\" has data_offsets [{}, {}] beyond the {} bytes of data", source, e.name,
           e.begin, e.end, data_size);
    if (e.begin < expected)
      fail("safetensors \"{}\": tensors \"{}\" [{}, {}) and \"{}\" [{}, {}) overlap", source, previous->name,
           previous->begin, previous->end, e.name, e.begin, e.end);
    if (e.begin > expected)
      fail("safetensors \"{}\": {} unused bytes of data before tensor \"{}\" at offset {}", source,
           e.begin - expected, e.name, e.begin);
    expected = e.end;
    previous = &e;
  }
  if (expected != data_size)
    fail("safetensors \"{}\": {} bytes of trailing data after the last tensor (data is {} bytes, tensors end at {})",
         source, data_size - expected, data_size, expected);
  return layout;
}

// The tensors `layout` places, each filled by fill(entry, its storage) straight into its storage (no copy of
// the whole file first), BOOL bytes and checksums checked.
SafetensorsContents tensors_of(Layout layout, const std::function<void(const Entry&, char*)>& fill,
                               const std::string& source) {
  SafetensorsContents out;
  out.metadata = std::move(layout.metadata);
  for (const Entry& e : layout.entries) {
    Tensor t = Tensor::empty(e.shape, {e.dtype});
    char* bytes = static_cast<char*>(t.view().data);
    if (e.end > e.begin) fill(e, bytes);
    if (e.dtype == DType::boolean)
      for (uint64_t i = 0; i < e.end - e.begin; ++i)
        if (bytes[i] != 0 && bytes[i] != 1)
          fail("safetensors \"{}\": BOOL tensor \"{}\" holds the byte {} at element {}; expected 0 or 1", source,
               e.name, static_cast<int>(static_cast<unsigned char>(bytes[i])), i);
    out.tensors.emplace_back(e.name, std::move(t));
  }
  verify_checksums(out, source);
  return out;
}

// A file opened for reading, closed when it goes.
struct ReadOnlyFile {
  int fd;
  explicit ReadOnlyFile(const std::string& path) : fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~ReadOnlyFile() {
    if (fd >= 0) ::close(fd);
  }
};

// `size` bytes at `offset` of the file into `out`; an error names the file and what was being read.
void read_at(int fd, char* out, uint64_t size, uint64_t offset, const std::string& path, const std::string& what) {
  while (size > 0) {
    const ssize_t n = ::pread(fd, out, std::min<uint64_t>(size, 1u << 30), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      fail("safetensors \"{}\": reading {} failed: {}", path, what, n == 0 ? "the file ended early" : std::strerror(errno));
    out += n;
    offset += static_cast<uint64_t>(n);
    size -= static_cast<uint64_t>(n);
  }
}

}  // namespace

SafetensorsContents parse_safetensors(std::string_view bytes, const std::string& source) {
  const uint64_t header_size = header_length(bytes.substr(0, 8), bytes.size(), source);
  const std::string_view data = bytes.substr(8 + header_size);
  Layout layout = parse_layout(bytes.substr(8, header_size), data.size(), source);
  return tensors_of(
      std::move(layout), [&](const Entry& e, char* out) { std::memcpy(out, data.data() + e.begin, e.end - e.begin); },
      source);
}

SafetensorsContents load_safetensors(const std::string& path) {
  const ReadOnlyFile file(path);
  if (file.fd < 0) fail("safetensors \"{}\": cannot open the file: {}", path, std::strerror(errno));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0 || !S_ISREG(info.st_mode))
    fail("safetensors \"{}\": not a regular file", path);
  const uint64_t size = static_cast<uint64_t>(info.st_size);
  char first8[8] = {};
  if (size >= 8) read_at(file.fd, first8, 8, 0, path, "the header length");
  const uint64_t header_size = header_length(std::string_view(first8, 8), size, path);
  std::string header(header_size, '\0');
  read_at(file.fd, header.data(), header_size, 8, path, "the header");
  const uint64_t data_start = 8 + header_size;
  Layout layout = parse_layout(header, size - data_start, path);
  return tensors_of(
      std::move(layout),
      [&](const Entry& e, char* out) {
        read_at(file.fd, out, e.end - e.begin, data_start + e.begin, path, fmt::format("tensor \"{}\"", e.name));
      },
      path);
}

std::string serialize_safetensors(const NamedTensors& tensors, const std::map<std::string, std::string>& metadata) {
  auto [header, host] = make_header(tensors, metadata);
  std::string out;
  append_u64_le(out, header.size());
  out += header;
  for (const auto& [name, t] : host) out += raw_bytes(t);
  return out;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const auto [header, host] = make_header(tensors, metadata);  // checks names before touching any file
  const std::string tmp = path + ".tmp";
  const auto failed = [&](FILE* f, const char* what) {
    const int err = errno;
    if (f != nullptr) std::fclose(f);
    std::remove(tmp.c_str());
    fail("save_safetensors \"{}\": {} \"{}\" failed: {}", path, what, tmp, std::strerror(err));
  };
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) failed(nullptr, "opening");
  std::string prefix;
  append_u64_le(prefix, header.size());
  prefix += header;
  if (std::fwrite(prefix.data(), 1, prefix.size(), f) != prefix.size()) failed(f, "writing");
  for (const auto& [name, t] : host) {
    const std::string_view bytes = raw_bytes(t);
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size()) failed(f, "writing");
  }
  if (std::fflush(f) != 0 || ::fsync(fileno(f)) != 0) failed(f, "flushing");
  if (std::fclose(f) != 0) failed(nullptr, "closing");
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    fail("save_safetensors \"{}\": renaming \"{}\" over it failed: {}", path, tmp, std::strerror(err));
  }
}

}  // namespace tg
