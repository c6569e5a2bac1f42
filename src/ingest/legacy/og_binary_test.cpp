#include "ingest/legacy/og_binary.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/status.h"

namespace embers::ingest {
namespace {

void PutUvarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// A node for test encoders: name/label, value, children; encoded pre-order.
struct Node {
  std::string name;
  uint64_t value = 0;
  std::vector<Node> children;
};

void Encode(const Node& n, std::string& out) {
  PutUvarint(out, n.name.size());
  out.append(n.name);
  PutUvarint(out, n.value);
  PutUvarint(out, n.children.size());
  for (const Node& c : n.children) Encode(c, out);
}

std::string Encode(const Node& n) {
  std::string out;
  Encode(n, out);
  return out;
}

// A transport trie of {"foo;bar" 1, "foo;baz" 2, "foo;baz;x" 3, "qux" 4} with labels that split
// frame names in the middle, as the agent's trie does.
Node SampleTrie() {
  return Node{"",
              0,
              {Node{"foo;ba", 0, {Node{"r", 1, {}}, Node{"z", 2, {Node{";x", 3, {}}}}}},
               Node{"qux", 4, {}}}};
}

TEST(TrieTest, Parses) {
  auto s = ParseTrie(Encode(SampleTrie()));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->ToFoldedSorted(), "foo;bar 1\nfoo;baz 2\nfoo;baz;x 3\nqux 4\n");
}

TEST(TrieTest, EmptyBodyAndForest) {
  auto empty = ParseTrie("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->num_samples(), 0u);
  // Two top-level nodes back to back.
  auto s = ParseTrie(Encode(Node{"a", 1, {}}) + Encode(Node{"b", 2, {Node{";c", 3, {}}}}));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->ToFoldedSorted(), "a 1\nb 2\nb;c 3\n");
}

TEST(TrieTest, TruncatedAtEveryByte) {
  const std::string body = Encode(SampleTrie());
  for (size_t n = 1; n < body.size(); ++n) {
    auto s = ParseTrie(body.substr(0, n));
    EXPECT_FALSE(s.ok()) << "prefix " << n;
    if (!s.ok()) {
      EXPECT_EQ(HttpStatusOverride(s.status()), 422);
    }
  }
}

TEST(TrieTest, HugeDeclaredLengths) {
  std::string body;
  PutUvarint(body, uint64_t{1} << 40);  // label length
  body.append("abc");
  auto s = ParseTrie(body);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("byte 0"), absl::string_view::npos) << s.status();

  body.clear();
  PutUvarint(body, 1);
  body.append("a");
  PutUvarint(body, 1);
  PutUvarint(body, uint64_t{1} << 60);  // child count
  s = ParseTrie(body);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("child count"), absl::string_view::npos) << s.status();

  // An 11-byte varint overflows.
  s = ParseTrie(std::string(10, '\xff') + "\x01");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("overflows"), absl::string_view::npos) << s.status();
}

Node SampleTree() {
  return Node{"",
              0,
              {Node{"a",
                    0,
                    {Node{"b", 5, {Node{"c", 5, {}}, Node{"d", 4, {}}}},
                     Node{"b", 1, {}}}},  // a duplicate path: merged
               Node{"x;y", 7, {}}}};
}

TEST(TreeTest, Parses) {
  auto s = ParseTree(Encode(SampleTree()));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->ToFoldedSorted(), "a;b 6\na;b;c 5\na;b;d 4\nx;y 7\n");
}

TEST(TreeTest, RootSelfIgnoredAndTrailingBytesIgnored) {
  auto s = ParseTree(Encode(Node{"", 9, {Node{"a", 1, {}}}}) + "junk");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->ToFoldedSorted(), "a 1\n");
}

TEST(TreeTest, TruncatedAtEveryByte) {
  const std::string body = Encode(SampleTree());
  for (size_t n = 0; n < body.size(); ++n) {
    auto s = ParseTree(body.substr(0, n));
    EXPECT_FALSE(s.ok()) << "prefix " << n;
  }
}

TEST(TreeTest, DeepChainIsBounded) {
  // 100k nested nodes, each with a value: quadratic output unless bounded.
  std::string body;
  const int depth = 100000;
  PutUvarint(body, 0);
  PutUvarint(body, 0);
  PutUvarint(body, 1);
  for (int i = 0; i < depth; ++i) {
    PutUvarint(body, 1);
    body.push_back('f');
    PutUvarint(body, 1);
    PutUvarint(body, i + 1 < depth ? 1 : 0);
  }
  auto s = ParseTree(body);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(HttpStatusOverride(s.status()), 413);
}

}  // namespace
}  // namespace embers::ingest
