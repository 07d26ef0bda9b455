# Decode tokens/s against model size (parameters), measured and published.
# gnuplot -e "data='report/tg-vs-size.dat'; out='x.png'; title='...'; n=N" plots/tg_vs_size.gp
# data: N blocks (two blank lines apart), each a quoted series title, then rows
# "parameters tokens_per_s layer_sampled(0|1)".
set terminal pngcairo size 1100,720 font 'DejaVu Sans,11'
set output out
set title title noenhanced
set xlabel 'model size (parameters)'
set ylabel 'decode tokens/s'
set logscale xy
set format x '10^{%T}'
set grid xtics ytics mxtics mytics lc rgb '#dddddd'
# below the plot: long CPU names (a fleet's, '...-without-avx512f') would squeeze it to nothing
set key below noenhanced
plot for [i=0:n-1] data index i using 1:2 with linespoints lw 2 pt (i % 2 ? 6 : 7) title columnheader(1), \
     data using 1:($3 > 0 ? $2 : 1/0) with points pt 4 ps 3 lw 2 lc rgb 'black' title 'layer-sampled (extrapolated)'
