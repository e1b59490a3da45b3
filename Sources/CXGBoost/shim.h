#include <stdint.h>
#include <xgboost/c_api.h>
