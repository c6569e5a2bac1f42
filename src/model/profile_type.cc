#include "model/profile_type.h"

#include "base/strings.h"

namespace embers::model {

std::string ProfileType::ID() const {
  return StrCat(name, ':', sample_type, ':', sample_unit, ':', period_type, ':', period_unit);
}

absl::StatusOr<ProfileType> ParseProfileType(std::string_view id) {
  std::vector<std::string_view> parts = Split(id, ':');
  if (parts.size() != 5 && parts.size() != 6) {
    return absl::InvalidArgumentError(
        StrCat("profile-type selection must be of the form "
               "<name>:<sample-type>:<sample-unit>:<period-type>:<period-unit>(:delta), got(",
               parts.size(), ") \"", id, "\""));
  }
  return ProfileType{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]),
                     std::string(parts[3]), std::string(parts[4])};
}

}  // namespace embers::model
