// Replacing a file so that readers see the old content or the new, never a part of either: the
// state file, and the metrics file node_exporter's textfile collector reads while dynoherd writes.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/status.h"

namespace dynoherd::providers {

// Writes `content` to a temporary file in the directory of `path` (named ".NAME.XXXXXX", so globs
// such as *.prom never match it), fsyncs it, gives it `mode`, renames it over `path` and fsyncs the
// directory. The directory must exist. On failure the temporary file is removed and `path` is left
// as it was. `what` names the file in errors: "cannot write the state file PATH (rename): ...".
Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode,
                           std::string_view what);

// strerror(errno): what a failed system call of these file operations says, for their Statuses.
std::string ErrnoText();

}  // namespace dynoherd::providers
