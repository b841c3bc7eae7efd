#ifndef COOPEDGE_CYAML_SHIM_H
#define COOPEDGE_CYAML_SHIM_H
// libyaml's parser event API (yaml_parser_parse); Config's YAMLDocument is its only user.
#include <yaml.h>
#endif
