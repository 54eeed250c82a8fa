// Values of a decoded pickle (or JSON document), built incrementally.
//
// Scalars live inline in a 16-byte Value; strings are interned (StringId);
// containers are reference-counted Nodes from a pooled arena. A container
// whose role "streams" never stores its children: each finished child is
// handed to the consumer and released, so a snapshot's event list never
// exists in memory as a whole.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memtk/base/id.h"
#include "memtk/base/string_pool.h"

namespace memtk::pickle {

enum class Kind : uint8_t {
  kNone,
  kBool,
  kInt,     ///< fits int64
  kBigInt,  ///< wider than 8 bytes: `id` names its decimal text
  kFloat,
  kStr,
  kBytes,   ///< `id` names the raw bytes (interned like strings)
  kList,
  kDict,    ///< items alternate key, value
  kTuple,
  kSet,
  kGlobal,  ///< an allowlisted, code-free global (`i` = which)
  kMark,    ///< internal stack marker
};

struct Node;

struct Value {
  Kind kind = Kind::kNone;
  /// A container reference that holds no count of its own: the decoder's
  /// memo keeps the node alive until the decoder ends (Decoder::PutMemo).
  bool borrowed = false;
  /// A list the decoder shares (Consumer::ReadsOnlyCache) whose node's
  /// cache fits 32 bits: `id` holds it, so reading it touches no node. On a
  /// dict: the decoder's stack entry of a holder of such lists (Settle).
  bool cached = false;
  uint32_t id = 0;  // StringId for kStr/kBytes/kBigInt; see `cached`
  union {
    int64_t i = 0;
    double d;
    Node* node;
  };
  bool is_node() const { return kind >= Kind::kList && kind <= Kind::kSet; }
};

/// A container. `role` and `index` are assigned by the consumer's policy when
/// the container is created; `cache` lets the consumer remember what a shared
/// container was interpreted as (a FrameId for a frame dict, a StackId for a
/// frames list), so a memo back-reference costs a lookup, not a re-intern.
struct Node {
  Kind kind = Kind::kList;
  /// A list the decoder keeps without items (see Consumer::ReadsOnlyCache):
  /// shared between every list with the same items, or (read back later) one
  /// list's own node until it is filled in; `index` names its record.
  bool known = false;
  /// Set by the consumer on a container the schema gives one owner (a
  /// segment's block list, a block's history) once it has been expanded:
  /// a second owner reached through the memo is refused, not expanded again.
  bool claimed = false;
  /// On a known list of the decoder's own (one per memoized list that is
  /// read back): a dict holding it has been handed to the consumer, so the
  /// consumer has read it (Decoder::FillOwn).
  bool consumed = false;
  uint16_t role = 0;
  uint32_t refs = 0;
  int64_t cache = -1;
  uint64_t index = 0;     // position in the parent when created
  uint64_t streamed = 0;  // children handed to the consumer instead of stored
  /// Non-null for a dict holding known lists: it may reach the consumer only
  /// streamed into this list; the decoder fills the lists in before anything
  /// else could show it (Decoder::Settle).
  const Node* streams_into = nullptr;
  std::vector<Value> items;
};

/// Pooled allocation and reference counting of Nodes.
class NodeArena {
 public:
  NodeArena() = default;
  ~NodeArena();
  NodeArena(const NodeArena&) = delete;
  NodeArena& operator=(const NodeArena&) = delete;

  Node* New(Kind kind, uint16_t role, uint64_t index);
  /// Like New, for a node that never holds items (the decoder's shared
  /// stand-in for a known list): it comes from fresh chunk memory, not the
  /// free list, whose nodes keep their item buffers for nodes that need
  /// them (one malloc per distinct stack otherwise).
  Node* NewBare(Kind kind, uint16_t role, uint64_t index);
  static void Retain(const Value& v) {
    if (v.is_node() && !v.borrowed) ++v.node->refs;
  }
  /// Drops one reference; frees the node (and releases its children) at zero.
  void Release(const Value& v) {
    if (v.is_node() && !v.borrowed && --v.node->refs == 0) Free(v.node);
  }
  size_t live_nodes() const { return live_; }

 private:
  void Free(Node* n);
  std::vector<Node*> free_;
  std::vector<Node*> chunks_;
  std::vector<Node*> pending_;  // iterative freeing, no deep recursion
  Node* bare_ = nullptr;        // NewBare's chunk and its nodes left
  size_t bare_left_ = 0;
  size_t live_ = 0;
};

/// Appends `v` as compact JSON. Strings are escaped; bytes become a JSON
/// string of \u00XX escapes for non-printables; big ints are written as
/// their exact decimal digits. Containers nested deeper than kMaxJsonDepth
/// (or containing themselves) are written as "<nested too deep>".
/// Dict keys that are containers are written as "<tuple>" etc. Once one call
/// has appended kMaxJsonBytes, the rest is written as one "<truncated>" per
/// open container, so the output stays valid JSON of bounded size.
inline constexpr int kMaxJsonDepth = 64;
inline constexpr size_t kMaxJsonBytes = 64u << 10;  // real extras are a few hundred bytes
void AppendJson(const StringPool& pool, const Value& v, std::string* out);

/// Human-readable name of a kind ("dict", "list", ...), for messages.
const char* KindName(Kind k);

}  // namespace memtk::pickle
