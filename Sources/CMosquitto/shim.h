#ifndef COOPEDGE_CMOSQUITTO_SHIM_H
#define COOPEDGE_CMOSQUITTO_SHIM_H
#include <mosquitto.h>
#endif
