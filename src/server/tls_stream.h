// TlsStream: a TLS connection on the HTTP port as the HTTP/1.1 session (http_server.cc) reads it
// and, after ALPN or the client preface chose HTTP/2, as the Http2Connection serves it.
//
// beast::tcp_stream underneath gives the handshake and the HTTP/1.1 reads their timeouts;
// HTTP/2 clears them and keeps its own timer.
#ifndef EMBERS_SERVER_TLS_STREAM_H_
#define EMBERS_SERVER_TLS_STREAM_H_

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace embers::server {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// The TCP socket under either kind of connection.
inline boost::asio::ip::tcp::socket& LowestSocket(boost::asio::ip::tcp::socket& socket) {
  return socket;
}
inline boost::asio::ip::tcp::socket& LowestSocket(TlsStream& stream) {
  return boost::beast::get_lowest_layer(stream).socket();
}

}  // namespace embers::server

#endif  // EMBERS_SERVER_TLS_STREAM_H_
