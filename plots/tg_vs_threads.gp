# Decode tokens/s against threads, one series per CPU, model size and kernel kind.
# gnuplot -e "data='report/tg-vs-threads.dat'; out='x.png'; title='...'; n=N" plots/tg_vs_threads.gp
# data: N blocks, each a quoted series title, then rows "threads tokens_per_s layer_sampled".
set terminal pngcairo size 1100,720 font 'DejaVu Sans,11'
set output out
set title title noenhanced
set xlabel 'threads'
set ylabel 'decode tokens/s'
set logscale y
set xtics 1
set grid xtics ytics mytics lc rgb '#dddddd'
# below the plot: long CPU names (a fleet's, '...-without-avx512f') would squeeze it to nothing
set key below noenhanced
plot for [i=0:n-1] data index i using 1:2 with linespoints lw 2 pt 7 title columnheader(1), \
     data using 1:($3 > 0 ? $2 : 1/0) with points pt 4 ps 3 lw 2 lc rgb 'black' title 'layer-sampled (extrapolated)'
