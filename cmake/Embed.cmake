# hb_embed(TARGET VAR GLOB): a static library whose table VAR holds the files matching GLOB.
function(hb_embed target var pattern)
  file(GLOB files CONFIGURE_DEPENDS ${pattern})
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}.c)
  string(REPLACE ";" "|" joined "${files}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DVAR=${var} "-DFILES=${joined}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    COMMENT "Embedding ${target}"
    VERBATIM)
  add_library(${target} STATIC ${out})
endfunction()
