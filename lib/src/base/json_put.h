// Put(writer, key, value): one JSON member of any type the reports use, for
// RapidJSON's streaming writer; PutObject/PutObjectOrNull for a nested
// object, PutArray/PutObjects for arrays. Optionals that are empty become
// null, doubles that are not finite become 0 (JSON has no NaN).
#pragma once

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "memtk/base/escape.h"

namespace memtk::json {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

inline void Key(Writer& w, std::string_view k) { w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

template <class T>
void Value(Writer& w, const T& v) {
  if constexpr (IsOptional<T>::value) {
    if (v) {
      Value(w, *v);
    } else {
      w.Null();
    }
  } else if constexpr (std::is_same_v<T, bool>) {
    w.Bool(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    w.Double(std::isfinite(v) ? static_cast<double>(v) : 0.0);
  } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    w.Int64(v);
  } else if constexpr (std::is_integral_v<T>) {
    w.Uint64(v);
  } else {
    std::string_view s(v);
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }
}

template <class T>
void Put(Writer& w, std::string_view key, const T& v) {
  Key(w, key);
  Value(w, v);
}

/// `key: {...}`, fill(w) writing the object's members: the nesting shows in
/// the caller's code, and StartObject/EndObject cannot come apart.
template <class F>
void PutObject(Writer& w, std::string_view key, F&& fill) {
  Key(w, key);
  w.StartObject();
  fill(w);
  w.EndObject();
}

/// `key: {...}` as PutObject when `present`, else `key: null` (a report
/// part that was not found: a memlog's start-up plateau, steady phase, ...).
template <class F>
void PutObjectOrNull(Writer& w, std::string_view key, bool present, F&& fill) {
  if (present) {
    PutObject(w, key, fill);
  } else {
    Key(w, key);
    w.Null();
  }
}

/// `key: [...]`, write(w, item) writing each element.
template <class Range, class F>
void PutArray(Writer& w, std::string_view key, const Range& items, F&& write) {
  Key(w, key);
  w.StartArray();
  for (const auto& item : items) write(w, item);
  w.EndArray();
}

/// `key: [{...}, ...]`, fill(w, item) writing the members of each object.
template <class Range, class F>
void PutObjects(Writer& w, std::string_view key, const Range& items, F&& fill) {
  PutArray(w, key, items, [&](Writer& ww, const auto& item) {
    ww.StartObject();
    fill(ww, item);
    ww.EndObject();
  });
}

/// A whole report: one JSON object, `fill(w)` writing its members, and a
/// newline.
template <class F>
std::string ObjectText(F&& fill) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  fill(w);
  w.EndObject();
  // RapidJSON escapes C0 controls only; C1 controls and bidi overrides from
  // the input would reach a terminal that shows the JSON.
  return EscapeJsonText(std::string_view(buf.GetString(), buf.GetSize())) + "\n";
}

}  // namespace memtk::json
