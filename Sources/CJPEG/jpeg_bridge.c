#include "CJPEG.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

/// libjpeg keeps a pointer to the error manager, so it lives on the heap
/// together with the codec structure that points to it.
typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    char text[JMSG_LENGTH_MAX];
} ErrorState;

typedef struct {
    struct jpeg_decompress_struct codec;
    ErrorState error;
} Decoder;

typedef struct {
    struct jpeg_compress_struct codec;
    ErrorState error;
    unsigned char *buffer;
    unsigned long size;
} Encoder;

static void on_error(j_common_ptr codec) {
    ErrorState *state = (ErrorState *)codec->err;
    (*codec->err->format_message)(codec, state->text);
    longjmp(state->jump, 1);
}

/// libjpeg only warns on a truncated or damaged stream and fills the rest
/// with grey; a training set must not silently contain such images, so
/// every warning except stray bytes between markers stops decoding.
static void on_message(j_common_ptr codec, int level) {
    if (level >= 0) return;
    if (codec->err->msg_code == JWRN_EXTRANEOUS_DATA) return;
    on_error(codec);
}

static void copy_message(char *message, size_t capacity, const char *text) {
    if (message == NULL || capacity == 0) return;
    snprintf(message, capacity, "%s", text);
}

static void install_errors(ErrorState *state, struct jpeg_error_mgr **slot) {
    *slot = jpeg_std_error(&state->manager);
    state->manager.error_exit = on_error;
    state->manager.emit_message = on_message;
    state->text[0] = '\0';
}

static Decoder *decoder_open(void) {
    Decoder *decoder = calloc(1, sizeof(Decoder));
    if (decoder == NULL) return NULL;
    install_errors(&decoder->error, &decoder->codec.err);
    return decoder;
}

static void fill_info(const struct jpeg_decompress_struct *codec, CJPEGInfo *info, int delivered) {
    if (info == NULL) return;
    info->width = (int)codec->image_width;
    info->height = (int)codec->image_height;
    info->components = delivered ? codec->output_components : codec->num_components;
}

int cjpeg_read_info(const unsigned char *data, size_t size, CJPEGInfo *info,
                    char *message, size_t message_capacity) {
    Decoder *decoder = decoder_open();
    if (decoder == NULL) {
        copy_message(message, message_capacity, "out of memory");
        return CJPEG_ERROR;
    }
    if (setjmp(decoder->error.jump)) {
        copy_message(message, message_capacity, decoder->error.text);
        jpeg_destroy_decompress(&decoder->codec);
        free(decoder);
        return CJPEG_ERROR;
    }
    jpeg_CreateDecompress(&decoder->codec, JPEG_LIB_VERSION, sizeof(struct jpeg_decompress_struct));
    jpeg_mem_src(&decoder->codec, data, (unsigned long)size);
    jpeg_read_header(&decoder->codec, TRUE);
    fill_info(&decoder->codec, info, 0);
    jpeg_destroy_decompress(&decoder->codec);
    free(decoder);
    return CJPEG_OK;
}

static J_COLOR_SPACE output_space(const struct jpeg_decompress_struct *codec, int components) {
    if (components == 1) return JCS_GRAYSCALE;
    if (components == 3) return JCS_RGB;
    return codec->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
}

int cjpeg_decode(const unsigned char *data, size_t size, int components,
                 unsigned char *pixels, size_t capacity, CJPEGInfo *info,
                 char *message, size_t message_capacity) {
    if (components != 0 && components != 1 && components != 3) {
        copy_message(message, message_capacity, "components must be 0, 1 or 3");
        return CJPEG_ERROR;
    }
    Decoder *decoder = decoder_open();
    if (decoder == NULL) {
        copy_message(message, message_capacity, "out of memory");
        return CJPEG_ERROR;
    }
    if (setjmp(decoder->error.jump)) {
        copy_message(message, message_capacity, decoder->error.text);
        jpeg_destroy_decompress(&decoder->codec);
        free(decoder);
        return CJPEG_ERROR;
    }
    jpeg_CreateDecompress(&decoder->codec, JPEG_LIB_VERSION, sizeof(struct jpeg_decompress_struct));
    jpeg_mem_src(&decoder->codec, data, (unsigned long)size);
    jpeg_read_header(&decoder->codec, TRUE);
    decoder->codec.out_color_space = output_space(&decoder->codec, components);
    jpeg_start_decompress(&decoder->codec);
    fill_info(&decoder->codec, info, 1);
    size_t stride = (size_t)decoder->codec.output_width * (size_t)decoder->codec.output_components;
    size_t needed = stride * (size_t)decoder->codec.output_height;
    if (needed > capacity) {
        jpeg_destroy_decompress(&decoder->codec);
        free(decoder);
        return CJPEG_BUFFER_TOO_SMALL;
    }
    while (decoder->codec.output_scanline < decoder->codec.output_height) {
        JSAMPROW row = pixels + stride * decoder->codec.output_scanline;
        jpeg_read_scanlines(&decoder->codec, &row, 1);
    }
    jpeg_finish_decompress(&decoder->codec);
    jpeg_destroy_decompress(&decoder->codec);
    free(decoder);
    return CJPEG_OK;
}

static int encoder_finish(Encoder *encoder, unsigned char *output, size_t capacity, size_t *written) {
    int status = CJPEG_OK;
    if (written != NULL) *written = (size_t)encoder->size;
    if ((size_t)encoder->size > capacity) {
        status = CJPEG_BUFFER_TOO_SMALL;
    } else {
        memcpy(output, encoder->buffer, encoder->size);
    }
    jpeg_destroy_compress(&encoder->codec);
    free(encoder->buffer);
    free(encoder);
    return status;
}

int cjpeg_encode(const unsigned char *pixels, int width, int height, int components,
                 int quality, unsigned char *output, size_t capacity, size_t *written,
                 char *message, size_t message_capacity) {
    if ((components != 1 && components != 3) || width <= 0 || height <= 0) {
        copy_message(message, message_capacity, "width and height must be positive and components 1 or 3");
        return CJPEG_ERROR;
    }
    Encoder *encoder = calloc(1, sizeof(Encoder));
    if (encoder == NULL) {
        copy_message(message, message_capacity, "out of memory");
        return CJPEG_ERROR;
    }
    install_errors(&encoder->error, &encoder->codec.err);
    if (setjmp(encoder->error.jump)) {
        copy_message(message, message_capacity, encoder->error.text);
        jpeg_destroy_compress(&encoder->codec);
        free(encoder->buffer);
        free(encoder);
        return CJPEG_ERROR;
    }
    jpeg_CreateCompress(&encoder->codec, JPEG_LIB_VERSION, sizeof(struct jpeg_compress_struct));
    jpeg_mem_dest(&encoder->codec, &encoder->buffer, &encoder->size);
    encoder->codec.image_width = (JDIMENSION)width;
    encoder->codec.image_height = (JDIMENSION)height;
    encoder->codec.input_components = components;
    encoder->codec.in_color_space = components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&encoder->codec);
    jpeg_set_quality(&encoder->codec, quality, TRUE);
    jpeg_start_compress(&encoder->codec, TRUE);
    size_t stride = (size_t)width * (size_t)components;
    while (encoder->codec.next_scanline < encoder->codec.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + stride * encoder->codec.next_scanline);
        jpeg_write_scanlines(&encoder->codec, &row, 1);
    }
    jpeg_finish_compress(&encoder->codec);
    return encoder_finish(encoder, output, capacity, written);
}
