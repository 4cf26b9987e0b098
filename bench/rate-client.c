/*
 * Open-loop constant-rate HTTP/1.1 load for bench/serve.ts (latency at a fixed request rate).
 *
 * Why not autocannon -R: it gives each connection rate/connections requests per second and sends
 * them back to back as soon as its 1-second bucket resets (a closed-loop burst of `connections`
 * concurrent requests at the top of every second, then silence), records whole milliseconds, and
 * with -R adds coordinated-omission fill-ins at an expected interval of ceil(1/rate) = 1 ms. At
 * 1,000 req/s over 20 connections that measures bursts of 20, not a steady 1,000 req/s.
 *
 * Here request i is due at t0 + i / rate (CLOCK_MONOTONIC, nanoseconds; timerfd with 1 ns timer
 * slack). When it is due it goes out on an idle keep-alive connection; if none is idle it waits
 * for one (lateSends counts requests written more than one interval after their due time). Its latency is
 * measured from its due time, not from when it was written, so a late send (the client's own or
 * the server's backlog) counts against the result rather than being hidden. One thread, epoll,
 * no pipelining. Answers need a Content-Length (every server here sends one); a non-2xx answer is
 * counted, not timed; a connection the server closes is reopened (its request in flight is `lost`).
 *
 * Usage: rate-client HOST PORT PATH RATE SECONDS CONNECTIONS BODY_FILE CONTENT_TYPE
 * Prints one JSON line: counts and latency percentiles in microseconds (from the due time), and
 * the send lag (write time - due time) percentiles, which is the client's own error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  int fd;
  int busy;
  int64_t due;  /* ns: when the request in flight was due */
  char buf[65536];
  size_t len;
} conn_t;

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(int64_t *v, size_t n, double p) {
  if (n == 0) return -1;
  size_t i = (size_t)(p * (double)(n - 1) + 0.5);
  return (double)v[i] / 1000.0;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

/* Bytes of the first complete response in c->buf, 0 if incomplete; *status gets its status code. */
static size_t complete(conn_t *c, int *status) {
  c->buf[c->len] = 0;
  char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
  if (!end) return 0;
  size_t head = (size_t)(end - c->buf) + 4;
  *status = atoi(c->buf + 9);
  long cl = -1;
  for (char *p = c->buf; p < end; p++) {
    if (*p == '\n' && strncasecmp(p + 1, "content-length:", 15) == 0) {
      cl = strtol(p + 16, NULL, 10);
      break;
    }
  }
  if (cl < 0) {
    fprintf(stderr, "rate-client: response without Content-Length\n");
    exit(2);
  }
  return c->len >= head + (size_t)cl ? head + (size_t)cl : 0;
}

static int dial(struct sockaddr_in *addr, int ep, uint32_t id) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, (struct sockaddr *)addr, sizeof *addr) < 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  fcntl(fd, F_SETFL, O_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = id};
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  return fd;
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: rate-client HOST PORT PATH RATE SECONDS CONNECTIONS BODY_FILE CONTENT_TYPE\n");
    return 2;
  }
  const char *host = argv[1];
  int port = atoi(argv[2]);
  const char *path = argv[3];
  double rate = atof(argv[4]);
  double seconds = atof(argv[5]);
  int nconn = atoi(argv[6]);
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);

  FILE *bf = fopen(argv[7], "rb");
  if (!bf) die("body file");
  static char body[1 << 20];
  size_t blen = fread(body, 1, sizeof body, bf);
  fclose(bf);
  static char req[(1 << 20) + 1024];
  int hl = snprintf(req, 1024, "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: %s\r\nAccept: application/json\r\nContent-Length: %zu\r\n\r\n", path, host, port, argv[8], blen);
  memcpy(req + hl, body, blen);
  size_t rlen = (size_t)hl + blen;

  int ep = epoll_create1(0);
  conn_t *conns = calloc((size_t)nconn, sizeof(conn_t));
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, host, &addr.sin_addr);
  for (int i = 0; i < nconn; i++) conns[i].fd = dial(&addr, ep, (uint32_t)i);
  int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  struct epoll_event tev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};
  epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev);

  size_t total = (size_t)(rate * seconds);
  int64_t interval = (int64_t)(1e9 / rate);
  int64_t *lat = malloc(total * sizeof(int64_t));
  int64_t *lag = malloc(total * sizeof(int64_t));
  int64_t *waiting = malloc(total * sizeof(int64_t)); /* due times not yet sent (FIFO) */
  size_t wHead = 0, wTail = 0, scheduled = 0, done = 0, sent = 0, non2xx = 0, lost = 0, reconnects = 0, queued = 0; /* sent more than one interval after due */
  int *idle = malloc((size_t)nconn * sizeof(int));
  int nidle = 0;
  for (int i = nconn - 1; i >= 0; i--) idle[nidle++] = i;

  int64_t t0 = now_ns() + 1000000; /* start 1 ms from now */
  int64_t stopAt = t0 + (int64_t)(seconds * 1e9) + 5000000000LL; /* 5 s grace for the last answers */
  struct epoll_event evs[256];
  while (done + non2xx + lost < total) {
    int64_t now = now_ns();
    if (now > stopAt) break;
    while (scheduled < total && t0 + (int64_t)scheduled * interval <= now) waiting[wTail++] = t0 + (int64_t)(scheduled++) * interval;
    while (wHead < wTail && nidle > 0) {
      conn_t *c = &conns[idle[--nidle]];
      c->due = waiting[wHead++];
      c->busy = 1;
      c->len = 0;
      int64_t w = now_ns();
      if (w - c->due > interval) queued++;
      lag[sent++] = w - c->due;
      ssize_t k = write(c->fd, req, rlen);
      if (k != (ssize_t)rlen) die("write (short or failed)");
    }
    if (scheduled < total) {
      int64_t next = t0 + (int64_t)scheduled * interval;
      struct itimerspec its = {.it_value = {.tv_sec = next / 1000000000LL, .tv_nsec = next % 1000000000LL}};
      timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    }
    int n = epoll_wait(ep, evs, 256, 100);
    for (int e = 0; e < n; e++) {
      uint32_t id = evs[e].data.u32;
      if (id == UINT32_MAX) {
        uint64_t x;
        ssize_t r = read(tfd, &x, sizeof x);
        (void)r;
        continue;
      }
      conn_t *c = &conns[id];
      int eof = 0;
      for (;;) {
        ssize_t k = read(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len);
        if (k > 0) {
          c->len += (size_t)k;
          continue;
        }
        if (k == 0) eof = 1;
        else if (errno != EAGAIN) die("read");
        break;
      }
      int status = 0;
      size_t used = c->busy ? complete(c, &status) : 0;
      if (used) {
        int64_t t = now_ns();
        if (status >= 200 && status < 300) lat[done++] = t - c->due;
        else non2xx++;
        c->busy = 0;
        c->len = 0;
        idle[nidle++] = (int)id;
      }
      if (eof) {
        /* closed by the server (nginx closes after keepalive_requests): reconnect; a request in flight on it is lost */
        reconnects++;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = dial(&addr, ep, id);
        c->len = 0;
        if (c->busy) {
          c->busy = 0;
          lost++;
          idle[nidle++] = (int)id;
        }
      }
    }
  }
  double elapsed = (double)(now_ns() - t0) / 1e9;
  qsort(lat, done, sizeof(int64_t), cmp64);
  qsort(lag, sent, sizeof(int64_t), cmp64);
  printf(
      "{\"rate\":%.0f,\"seconds\":%.3f,\"connections\":%d,\"sent\":%zu,\"ok\":%zu,\"non2xx\":%zu,\"unanswered\":%zu,\"lost\":%zu,\"reconnects\":%zu,\"lateSends\":%zu,"
      "\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,\"lagP50\":%.1f,\"lagP99\":%.1f,\"lagMax\":%.1f}\n",
      rate, elapsed, nconn, sent, done, non2xx, sent - done - non2xx - lost, lost, reconnects, queued, pct(lat, done, 0.5), pct(lat, done, 0.9), pct(lat, done, 0.99), pct(lat, done, 0.999),
      done ? (double)lat[done - 1] / 1000.0 : -1, pct(lag, sent, 0.5), pct(lag, sent, 0.99), sent ? (double)lag[sent - 1] / 1000.0 : -1);
  return 0;
}
