// Test support: member records as the membership tests build them.
#ifndef EMBERS_METASTORE_MEMBERSHIP_MEMBERSHIP_TESTING_H_
#define EMBERS_METASTORE_MEMBERSHIP_MEMBERSHIP_TESTING_H_

#include <string>

#include "metastore/v1/membership.pb.h"

namespace embers::metastore::testing {

// A segment-writer `id` at id:9096 with 4 tokens.
inline ::metastore::v1::Member Writer(
    const std::string& id,
    ::metastore::v1::MemberState state = ::metastore::v1::MEMBER_STATE_ACTIVE) {
  ::metastore::v1::Member m;
  m.set_id(id);
  m.set_kind(::metastore::v1::MEMBER_KIND_SEGMENT_WRITER);
  m.set_address(id + ":9096");
  m.set_state(state);
  m.set_tokens(4);
  return m;
}

}  // namespace embers::metastore::testing

#endif  // EMBERS_METASTORE_MEMBERSHIP_MEMBERSHIP_TESTING_H_
