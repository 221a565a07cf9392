package sqlitepcache

var Check = check
