// Interrupted runs leave nothing: temp files and directories memtk created
// are removed when SIGINT, SIGTERM or SIGHUP ends the process.
//
// Design (issue #16). Signals are not handled in an asynchronous handler:
// InstallInterruptCleanup() blocks the three signals in the calling thread
// (so in every thread started after it) and starts one watcher thread that
// waits for them with sigwait(). The watcher is ordinary code, so the
// registry can be a mutex-guarded list of std::string: when a signal comes,
// the watcher takes the registry lock for good (no temp file can be created,
// committed or removed after that), unlinks every registered file, removes
// every registered directory (newest first, so a directory after its files),
// then restores the default disposition and re-raises the signal: the
// process dies *by* the signal, which a shell reports as 128+N (130 for
// SIGINT, 143 for SIGTERM, 129 for SIGHUP), as interrupted programs should.
// A signal that was ignored when memtk started (nohup) stays ignored.
//
// A temp file is registered by the same locked step that creates it and
// unregistered by the same locked step that renames it into place, so an
// interrupt sees every output either complete under its final name or not
// at all. SIGKILL cannot be caught; nothing here helps against it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "memtk/base/status.h"

namespace memtk::io {

/// Blocks SIGINT/SIGTERM/SIGHUP in the calling thread and starts the
/// watcher. Call once, early in main-thread code, before any other thread
/// starts (threads inherit the mask; a thread started earlier could take the
/// signal and die without cleaning up). Later calls do nothing.
void InstallInterruptCleanup();

/// Handle of one registered path; 0 = none.
using CleanupId = uint64_t;

/// Creates a temp file from `templ` (mkstemp: ends in XXXXXX, replaced in
/// place) and registers it, in one step under the registry lock. Returns
/// the open fd (O_CLOEXEC); `*id` receives the handle.
StatusOr<int> CreateRegisteredTemp(std::string* templ, CleanupId* id);

/// Creates directory `path` and any missing parents (`mkdir -p`, mode 0777 &
/// ~umask), registering each directory it makes, in one step. `*ids`
/// receives their handles, outermost first (empty if `path` existed);
/// directories that already existed are never registered nor removed. On
/// failure the directories made so far are removed again and the error reads
/// "<path>: cannot create directory: <reason>" (an IoError: the file system
/// said no, the command line is fine).
Status CreateRegisteredDirs(const std::string& path, std::vector<CleanupId>* ids);

/// Registers an existing path to delete on interrupt (a directory if
/// `is_dir`: removed only if empty). For files made by other code.
CleanupId RegisterForCleanup(const std::string& path, bool is_dir);

/// Renames `from` to `to` and unregisters `id`, in one step: an interrupt
/// never deletes a file that was already renamed, nor misses one that was
/// not. Returns rename's errno (0 on success); on failure `id` stays
/// registered.
int RenameAndUnregister(const std::string& from, const std::string& to, CleanupId id);

/// Forgets `id` (the path stays). 0 is ignored.
void Unregister(CleanupId id);

/// Removes the path of `id` now (unlink, or rmdir for a directory) and
/// forgets it, in one step. 0 is ignored.
void RemoveAndUnregister(CleanupId id);

/// How many paths are registered (for tests).
size_t RegisteredCount();

}  // namespace memtk::io
