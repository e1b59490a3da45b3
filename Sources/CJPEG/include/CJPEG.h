#pragma once
#include <stddef.h>

/// Return codes of the bridge. libjpeg reports errors by longjmp; these
/// functions catch them with setjmp and return a code plus a message instead.
enum {
    CJPEG_OK = 0,
    CJPEG_ERROR = 1,
    CJPEG_BUFFER_TOO_SMALL = 2
};

/// Size of a JPEG image. `components` is the stored count (1 grey, 3 colour,
/// 4 CMYK) for cjpeg_read_info and the delivered count after cjpeg_decode.
typedef struct {
    int width;
    int height;
    int components;
} CJPEGInfo;

/// Reads only the header of the JPEG in `data`.
int cjpeg_read_info(const unsigned char *data, size_t size, CJPEGInfo *info,
                    char *message, size_t message_capacity);

/// Decodes the JPEG in `data` into `pixels` (row-major, interleaved channels).
/// `components` is 1 (grey), 3 (RGB) or 0 (as stored, grey or RGB). Returns
/// CJPEG_BUFFER_TOO_SMALL, with `info` filled, when `capacity` is too small.
/// A truncated or corrupt stream is an error, not a grey-filled image.
int cjpeg_decode(const unsigned char *data, size_t size, int components,
                 unsigned char *pixels, size_t capacity, CJPEGInfo *info,
                 char *message, size_t message_capacity);

/// Encodes `pixels` (width*height*components bytes, components 1 or 3) at
/// `quality` (1...100) into `output`. Returns CJPEG_BUFFER_TOO_SMALL, with
/// `written` set to the size needed, when `capacity` is too small.
int cjpeg_encode(const unsigned char *pixels, int width, int height, int components,
                 int quality, unsigned char *output, size_t capacity, size_t *written,
                 char *message, size_t message_capacity);
