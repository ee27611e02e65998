module github.com/vito/tuist/teav1

go 1.24
