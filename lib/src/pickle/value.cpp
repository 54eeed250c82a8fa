#include "pickle/value.h"

#include <cmath>
#include <cstdio>

#include <fmt/format.h>

namespace memtk::pickle {

namespace {
constexpr size_t kChunkNodes = 1024;
// A node that held a large batch gives its buffer back instead of keeping
// it on the free list forever.
constexpr size_t kMaxKeptCapacity = 128;
}  // namespace

NodeArena::~NodeArena() {
  for (Node* c : chunks_) delete[] c;
}

Node* NodeArena::New(Kind kind, uint16_t role, uint64_t index) {
  if (free_.empty()) {
    Node* chunk = new Node[kChunkNodes];
    chunks_.push_back(chunk);
    for (size_t i = kChunkNodes; i-- > 0;) free_.push_back(&chunk[i]);
  }
  Node* n = free_.back();
  free_.pop_back();
  n->kind = kind;
  n->known = false;
  n->streams_into = nullptr;
  n->claimed = false;
  n->consumed = false;
  n->role = role;
  n->refs = 1;
  n->cache = -1;
  n->index = index;
  n->streamed = 0;
  ++live_;
  return n;
}

Node* NodeArena::NewBare(Kind kind, uint16_t role, uint64_t index) {
  if (bare_left_ == 0) {
    bare_ = new Node[kChunkNodes];
    chunks_.push_back(bare_);
    bare_left_ = kChunkNodes;
  }
  Node* n = &bare_[kChunkNodes - bare_left_--];
  free_.push_back(n);  // New() takes it straight back, set up as usual
  return New(kind, role, index);
}

void NodeArena::Free(Node* root) {
  pending_.push_back(root);
  while (!pending_.empty()) {
    Node* n = pending_.back();
    pending_.pop_back();
    for (const Value& c : n->items)
      if (c.is_node() && !c.borrowed && --c.node->refs == 0) pending_.push_back(c.node);
    n->items.clear();
    if (n->items.capacity() > kMaxKeptCapacity) n->items.shrink_to_fit();
    free_.push_back(n);
    --live_;
  }
}

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "bool";
    case Kind::kInt:
    case Kind::kBigInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kStr: return "str";
    case Kind::kBytes: return "bytes";
    case Kind::kList: return "list";
    case Kind::kDict: return "dict";
    case Kind::kTuple: return "tuple";
    case Kind::kSet: return "set";
    case Kind::kGlobal: return "global";
    case Kind::kMark: return "mark";
  }
  return "?";
}

static void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (c < 0x20) {
          fmt::format_to(std::back_inserter(*out), "\\u{:04x}", c);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
  }
  out->push_back('"');
}

namespace {

// Renders one value; `end` is the output size past which nothing more is
// expanded. The budget is per AppendJson call, not per container, so a
// shared value referenced from everywhere (billion laughs) or a list holding
// one big string a million times stays bounded too.
void AppendJsonImpl(const StringPool& pool, const Value& v, std::string* out, int depth, size_t end) {
  if (out->size() > end) {
    out->append("\"<truncated>\"");
    return;
  }
  if (v.is_node() && depth >= kMaxJsonDepth) {
    out->append("\"<nested too deep>\"");
    return;
  }
  switch (v.kind) {
    case Kind::kNone: out->append("null"); return;
    case Kind::kBool: out->append(v.i ? "true" : "false"); return;
    case Kind::kInt: fmt::format_to(std::back_inserter(*out), "{}", v.i); return;
    case Kind::kBigInt: out->append(pool.Get(StringId{v.id})); return;
    case Kind::kFloat:
      if (std::isfinite(v.d)) {
        fmt::format_to(std::back_inserter(*out), "{}", v.d);
      } else {
        out->append(std::isnan(v.d) ? "\"NaN\"" : (v.d > 0 ? "\"Infinity\"" : "\"-Infinity\""));
      }
      return;
    case Kind::kStr:
    case Kind::kBytes: AppendJsonString(pool.Get(StringId{v.id}), out); return;
    case Kind::kGlobal: out->append("\"<global>\""); return;
    case Kind::kMark: out->append("\"<mark>\""); return;
    case Kind::kDict: {
      out->push_back('{');
      const auto& it = v.node->items;
      for (size_t i = 0; i + 1 < it.size(); i += 2) {
        if (i) out->push_back(',');
        if (out->size() > end) {  // one marker, not one per remaining item
          out->append("\"<truncated>\":null");
          break;
        }
        const Value& key = it[i];
        if (key.kind == Kind::kStr) {
          AppendJsonString(pool.Get(StringId{key.id}), out);
        } else if (key.is_node()) {
          // JSON keys must be strings. Rendering a container key as escaped
          // JSON text would multiply its size at every nesting level, so a
          // (tuple/frozenset) key becomes a placeholder naming its type.
          out->append("\"<");
          out->append(KindName(key.kind));
          out->append(">\"");
        } else {
          std::string k;
          AppendJsonImpl(pool, key, &k, depth + 1, end);
          AppendJsonString(k, out);
        }
        out->push_back(':');
        AppendJsonImpl(pool, it[i + 1], out, depth + 1, end);
      }
      out->push_back('}');
      return;
    }
    case Kind::kList:
    case Kind::kTuple:
    case Kind::kSet: {
      out->push_back('[');
      const auto& it = v.node->items;
      for (size_t i = 0; i < it.size(); ++i) {
        if (i) out->push_back(',');
        if (out->size() > end) {
          out->append("\"<truncated>\"");
          break;
        }
        AppendJsonImpl(pool, it[i], out, depth + 1, end);
      }
      out->push_back(']');
      return;
    }
  }
}

}  // namespace

void AppendJson(const StringPool& pool, const Value& v, std::string* out) {
  AppendJsonImpl(pool, v, out, 0, out->size() + kMaxJsonBytes);
}

}  // namespace memtk::pickle
