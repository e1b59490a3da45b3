#include <zmq.h>

/* Small helpers so the Swift wrapper never builds pollitem arrays or passes
   option sizes by hand; each returns libzmq's own result (-1 sets zmq_errno). */

static inline int foldwise_zmq_set_int(void *socket, int option, int value) {
    return zmq_setsockopt(socket, option, &value, sizeof value);
}

/* 1 when a message is waiting on `socket`, 0 after `timeout_ms` without one, -1 on error. */
static inline int foldwise_zmq_poll_in(void *socket, long timeout_ms) {
    zmq_pollitem_t item = { socket, 0, ZMQ_POLLIN, 0 };
    int ready = zmq_poll(&item, 1, timeout_ms);
    if (ready <= 0) return ready;
    return (item.revents & ZMQ_POLLIN) ? 1 : 0;
}

/* The error number libzmq reports for "operation would block / timed out". */
static inline int foldwise_zmq_eagain(void) { return EAGAIN; }
/* The error number of an interrupted call, which is retried. */
static inline int foldwise_zmq_eintr(void) { return EINTR; }
/* The error number of a terminated context. */
static inline int foldwise_zmq_eterm(void) { return ETERM; }
