/* The base of every other room: bounded reading, parsing of numbers and sizes, directory
 * creation, uuids, clocks and process identity. Uses nothing above libc. */
#ifndef MG_UTIL_H
#define MG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Length (1..4) of the valid UTF-8 character at s (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF; len bytes available), 0 when s[0] starts none. */
size_t mg_utf8_len(const unsigned char *s, size_t len);

/* Bounded copy that always terminates. */
void mg_strlcpy(char *dst, const char *src, size_t size);

/* Reads all of fd into *buf (NUL-terminated), at most max bytes, giving up after
 * timeout_ms (-1: no time bound). Returns 0 on success; 1 when the input is larger than
 * max (*buf NULL; with MG_READ_DRAIN the rest is read and discarded so the writer never
 * sees EPIPE); -errno on a read error, -ETIMEDOUT when the time ran out. */
#define MG_READ_DRAIN 1u
int mg_read_fd(int fd, size_t max, int timeout_ms, unsigned flags, char **buf, size_t *len);
/* The same for a file that must be a regular file and no symlink (FIFOs and devices are
 * refused with -EINVAL without blocking). */
int mg_read_file(const char *path, size_t max, char **buf, size_t *len);

/* write() until all of buf is written; 0 or -1 (errno set). */
int mg_write_all(int fd, const void *buf, size_t n);

/* mkdir -p; every missing component gets mode. 0 or -1 (errno set). */
int mg_mkdir_p(const char *dir, mode_t mode);

/* "16M", "512K", "16MiB", "1048576" -> bytes (1 .. 2 GiB); -1 otherwise. */
int mg_parse_size(const char *s, size_t *out);
/* An unsigned decimal that fits 32 bits; false on anything else. */
bool mg_parse_u32(const char *s, uint32_t *out);

/* "yes"/"1"/"true" -> 1, "no"/"0"/"false" -> 0, anything else -1. */
int mg_parse_bool(const char *s);

/* printf into a caller's error buffer (nothing when err is NULL or errsz 0). */
void mg_seterr(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* uuid text <-> 16 bytes; format gives "" for the all-zero uuid. */
int mg_uuid_parse(const char *s, uint8_t out[16]);
void mg_uuid_format(const uint8_t in[16], char out[37]);

/* Clocks in ns; CLOCK_BOOTTIME -> CLOCK_REALTIME; ISO-8601 UTC text with microseconds. */
uint64_t mg_now_real_ns(void);
uint64_t mg_now_boot_ns(void);
uint64_t mg_now_mono_ns(void);
uint64_t mg_boot_to_real(uint64_t boot_ns);
void mg_format_time(uint64_t real_ns, char *out, size_t size);

/* Start time of a process in clock ticks since boot (/proc/PID/stat field 22); 0 when
 * the process does not exist. Alive: exists and (start_ticks 0 or) started then. */
uint64_t mg_proc_start_ticks(uint32_t pid);
bool mg_proc_alive(uint32_t pid, uint64_t start_ticks);

#endif
