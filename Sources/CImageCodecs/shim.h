// libpng (its simplified reading API) and libjpeg-turbo's TurboJPEG API, from Debian's
// libpng-dev and libturbojpeg0-dev: the decoders of image-folder probe sets.
#include <png.h>
#include <turbojpeg.h>
