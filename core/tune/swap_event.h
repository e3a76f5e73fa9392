// A swap of a slot's kernel by the tuning service: what `kiln report` draws and kiln.stats()
// reports. Kept apart from the service so that the plugin's public header can name it cheaply.
#pragma once

#include <cstdint>

namespace kiln {

/// One swap (or roll-back), as `kiln report` draws it.
struct SwapEvent {
  int64_t slot = 0;
  uint64_t from_version = 0, to_version = 0;
  double before_seconds = 0, after_seconds = 0;  ///< Per call, timed in process.
  double time = 0;                               ///< Seconds since the service started.
  bool rollback = false;
};

}  // namespace kiln
